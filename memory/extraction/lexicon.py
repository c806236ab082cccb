"""The word lists the rules extractor reads English by.

Kept apart from the patterns that use them so a reader can see (and extend) the vocabulary in one
place: which words cannot start a name or an object, which verbs address the reader, which names
are technologies, organisations or places. Everything here is a frozenset of lower-case words
(a few known names have two).
"""

from __future__ import annotations

# --- Grammar: words that are never a name -----------------------------------------------------
DETERMINERS = frozenset(
    "the a an our my your their its his her this that these those some all any several many multiple various both"
    " each every".split()
)
PRONOUNS = frozenset(
    "i me we us you it they them he him she her this that these those there here which who what everything"
    " something nothing anything anyone everyone someone one".split()
)
AUX = frozenset(
    "am is are was were be been being do does did has have had will would can could should must may might not"
    " no never".split()
)
FUNCTION_WORDS = frozenset(
    "that which who whom whose if when whether because since although while and or but so to then than as like"
    " such including".split()
)
NOT_AN_OBJECT = frozenset(
    "also still very now currently just really able going available here there important possible likely"
    " unlikely true false responsible required needed necessary sure ready done new".split()
)
PARTICIPLES = frozenset(
    "sent built made done given taken known seen shown written run held kept set paid sold told found brought"
    " bought left lost meant put read said spent understood chosen driven broken spoken hidden begun grown thrown"
    " drawn".split()
)
PREPOSITIONS = frozenset("in on at for by from with after before during since of to into about".split())
BAD_OBJECT_START = PRONOUNS | AUX | NOT_AN_OBJECT
PEOPLE = frozenset("user users team customer customers client clients people".split())

# --- Voice: what the assistant tells the reader to do -----------------------------------------
READER_CHORE = frozenset(
    "click tap go navigate open visit contact reach call email run install type enter select press log sign"
    " restart refresh reload copy paste see check try make remember note let feel follow save download verify"
    " wait keep double-check provide share send tell confirm reply respond describe give".split()
)
IMPERATIVE = READER_CHORE | frozenset(
    "analyze analyse focus include implement use build create research review prepare evaluate add write develop"
    " design test deploy set consider ensure avoid provide define gather process handle identify compare assess"
    " synthesize explore investigate find get fix update remove delete move change integrate configure optimize"
    " monitor document plan help".split()
)

# --- Labels that introduce a sentence instead of naming a value ("Note: ...") -----------------
LABEL_KEYS = frozenset(
    "note notes tip tips warning important summary example answer recommendation conclusion update result reason"
    " goal task question nb ps tldr tl;dr solution issue problem context response reply request objective action"
    " edit caveat disclaimer hint fyi".split()
)

# --- Known names: enough to colour the graph --------------------------------------------------
TECHNOLOGIES = frozenset(
    "python typescript javascript java go golang rust ruby php kotlin swift scala c c++ c# elixir sql postgresql"
    " postgres mysql mariadb sqlite redis mongodb cassandra dynamodb elasticsearch opensearch kafka rabbitmq celery"
    " docker kubernetes k8s terraform ansible aws gcp azure s3 ec2 lambda linux git react vue angular svelte django"
    " flask fastapi rails express node node.js next.js graphql rest grpc jwt oauth oauth2 saml sso bcrypt argon2"
    " tls ssl https http websocket websockets pinecone weaviate qdrant milvus chroma pgvector faiss lancedb llm llms"
    " langchain llamaindex pandas numpy pytorch tensorflow database framework library server api sdk cache queue"
    " vector".split()
)
ORGANISATIONS = frozenset(
    "openai anthropic google microsoft amazon meta apple ibm oracle stripe github gitlab salesforce nvidia"
    " huggingface team company".split()
)
PLACES = frozenset(
    "paris london berlin tokyo new york san francisco seattle boston chicago amsterdam dublin madrid rome beijing"
    " shanghai singapore sydney toronto vancouver mumbai bangalore usa us united states uk united kingdom germany"
    " france china india japan canada europe asia africa australia brazil spain italy".split()
) | {"new york", "san francisco", "united states", "united kingdom"}
