"""What the offline stand-in model "knows": a few findings per topic the seed's use cases and the demo ask about.

A reply gives the findings of the topics the request names (the topic's `cues`, regular expressions searched in
the lower-cased request) that the recalled memory block does not hold yet, so a later agent adds to what an
earlier one found instead of repeating it: triage finds the double charge, billing then tells when it is refunded.
A topic marked `alone` is a task about other work (a review, a plan, a synthesis): it answers on its own, and
a synthesis turns each topic its memory block holds into that topic's `advice`. Every finding is a
self-contained statement with names, numbers and dates, so that what augmentation stores reads like memory.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# One topic: up to two new findings; several topics: one new finding each. Replies stay short so that four
# parallel agents' pending work fits in the recall block's pending share (half of 700 tokens).
MAX_FINDINGS = 2
MAX_TOPICS = 3
KNOWN_SHARE = 0.75  # a finding whose content words are this much in the memory block is already known
WORD_RE = re.compile(r"[a-z0-9]+")
STOPWORDS = frozenset(
    "a an and are as at be been by can for from has have in is it its of on or that the their this to was were "
    "which will with".split()
)


def every(*cues: str) -> str:
    """A cue matching when each of these patterns occurs somewhere in the request, in any order."""
    return "".join(f"(?=.*?\\b(?:{cue}))" for cue in cues)


@dataclass(frozen=True)
class Topic:
    name: str
    cues: tuple[str, ...]
    findings: tuple[str, ...] = ()
    advice: str = ""  # what a synthesis recommends when its memory block holds this topic
    alone: bool = False

    def asked_in(self, request: str) -> bool:
        return any(re.search(rf"\b(?:{cue})", request, re.S) for cue in self.cues)


TOPICS: tuple[Topic, ...] = (
    # Tasks about other work, answered alone.
    Topic("the team's research", (r"recommend", r"synthesi[sz]", r"positioning"), alone=True),
    Topic(
        "the code review of the authentication",
        (every(r"review", r"auth|login|jwt|code"),),
        (
            "The code review approved the authentication module's use of JWT tokens and bcrypt password hashing.",
            "The code review found that login attempts are not rate-limited and asked for a limit of 5 per minute.",
            "The code review asked for the JWT signing key to move from settings.py to an environment variable.",
        ),
        alone=True,
    ),
    Topic(
        "the deployment of the authentication feature",
        (every(r"deploy|release", r"auth|login|jwt"),),
        (
            "The authentication feature will be deployed on March 10 as a canary release to 5 percent of traffic.",
            "The JWT_SECRET_KEY environment variable must be set in production before the authentication release.",
            "The authentication release can be rolled back in under 2 minutes by switching to the previous slot.",
        ),
        alone=True,
    ),
    Topic(
        "the notification system's implementation",
        (every(r"implement|build|develop", r"notification"),),
        (
            "The notification service sends email through Amazon SES and in-app notifications over WebSockets.",
            "Notifications are queued in Redis and retried 3 times before they are marked as failed.",
            "Each user's notification preferences are stored per event type in the notification_settings table.",
        ),
        alone=True,
    ),
    Topic(
        "the notification system's test plan",
        (every(r"test|qa", r"notification"),),
        (
            "The notification test plan has 12 cases: email and in-app delivery for each event, opt-outs and retries.",
            "The QA team ran the notification tests on staging on March 14, and 11 of the 12 cases passed.",
            "The failing notification test case is the retry case: a failed email was retried 4 times instead of 3.",
        ),
        alone=True,
    ),
    # Subjects.
    Topic(
        "the AI memory market",
        (r"market",),
        (
            "The AI memory infrastructure market was worth about 2.4 billion dollars in 2025.",
            "Analysts expect the AI memory infrastructure market to grow about 35 percent a year until 2030.",
            "Multi-agent systems accounted for about a quarter of new AI memory deployments in 2025.",
        ),
        "The new AI memory platform should target teams that run several agents, the fastest-growing part of "
        "a market worth about 2.4 billion dollars.",
    ),
    Topic(
        "the competitors",
        (r"competitor", r"key players", r"rivals"),
        (
            "The top competitors are Mem0, Zep, Letta, LangMem and Memori.",
            "Mem0 and Zep lead with hosted memory APIs, while Letta and LangMem are open-source frameworks.",
            "None of the top five competitors shares one memory between several agents with per-agent provenance.",
        ),
        "The new AI memory platform should stand apart from Mem0 and Zep with memory shared between agents "
        "and provenance for every fact.",
    ),
    Topic(
        "vector databases",
        (r"vector", r"semantic search", r"embedding"),
        (
            "Pinecone, Weaviate, Qdrant and pgvector are the vector databases most used for AI memory systems.",
            "Qdrant and pgvector answer a top-10 semantic search over one million embeddings in under 10 milliseconds.",
            "Hybrid search, which adds BM25 keyword scores to dense embeddings, finds more relevant memories than "
            "embeddings alone.",
        ),
        "The new AI memory platform should start on PostgreSQL with pgvector and move to Qdrant above ten million "
        "memories.",
    ),
    Topic(
        "pricing",
        (r"pric",),
        (
            "Most AI memory products combine a free tier with pricing by usage per stored memory or API call.",
            "Paid plans of AI memory products range from about $20 to $250 per month before enterprise contracts.",
            "Enterprise contracts for AI memory products add SSO, audit logs and self-hosting.",
        ),
        "The new AI memory platform should offer a free tier and pricing by usage, with SSO and audit logs "
        "in an Enterprise plan.",
    ),
    Topic(
        "user authentication",
        (r"jwt", r"authenticat"),
        (
            "The login endpoint issues JWT tokens that expire after 15 minutes.",
            "Refresh tokens are valid for 7 days and are rotated each time they are used.",
        ),
    ),
    Topic(
        "password storage",
        (r"bcrypt", r"password"),
        (
            "Passwords are hashed with bcrypt at a cost factor of 12 before they are stored.",
            "Plain-text passwords are never written to the database or to the logs.",
        ),
    ),
    Topic(
        "the double charge",
        (r"charged twice", r"(?:double|duplicate) charge", r"refund"),
        (
            "The customer's card ending in 4242 was charged twice for the $49 Pro plan on March 3.",
            "The billing team will refund the duplicate $49 charge from March 3 within 5 business days.",
            "The refund goes back to the card ending in 4242, and no other invoice of the account is affected.",
        ),
    ),
    Topic(
        "account access",
        (r"log ?in", r"sign ?in", r"locked out", r"access\w* (?:to )?(?:my|the|their|his|her) account"),
        (
            "The customer's account was locked after 5 failed login attempts on March 3.",
            "Support lifted the account lock on March 4 and sent a password reset link to the customer's email.",
            "The password reset link expires after 24 hours.",
        ),
    ),
    Topic(
        "the Enterprise plan upgrade",
        (r"upgrade", r"quote"),
        (
            "The Enterprise plan includes SSO and audit logs and costs $99 per seat per month, billed annually.",
            "The Enterprise upgrade quote covers 25 seats at $29,700 per year and is valid until April 30.",
            "The unused part of the current Pro plan is credited against the first Enterprise invoice.",
        ),
    ),
    Topic(
        "single sign-on",
        (r"sso", r"single sign", r"okta", r"saml"),
        (
            "SSO with Okta uses the SAML 2.0 protocol and is available on the Enterprise plan only.",
            "The Okta administrator of the customer must upload the SAML metadata of the app to finish the SSO setup.",
            "Okta creates an account automatically for users who sign in for the first time.",
        ),
    ),
    Topic(
        "the notification system's requirements",
        (r"notification",),
        (
            "The notification system must send email and in-app notifications for new comments, mentions and "
            "billing alerts.",
            "Users can turn off email notifications per event type, but in-app notifications are always on.",
            "The requirements ask for email notifications to be sent within 1 minute of each event.",
        ),
    ),
)


def content_words(text: str) -> set[str]:
    return {word for word in WORD_RE.findall(text.lower()) if word not in STOPWORDS}


def is_known(finding: str, context_words: set[str]) -> bool:
    words = content_words(finding)
    return bool(words) and len(words & context_words) >= KNOWN_SHARE * len(words)


def topics_asked(request: str) -> list[Topic]:
    """The topics a request names, in table order; a task about other work comes alone."""
    lowered = request.lower()
    asked = [topic for topic in TOPICS if topic.asked_in(lowered)]
    alone = [topic for topic in asked if topic.alone]
    return alone[:1] if alone else asked[:MAX_TOPICS]


def new_findings(topics: list[Topic], context: str) -> list[str]:
    """For each topic, the first findings the memory block does not hold yet."""
    known = content_words(context)
    per_topic = MAX_FINDINGS if len(topics) == 1 else 1
    found: list[str] = []
    for topic in topics:
        found += [finding for finding in topic.findings if not is_known(finding, known)][:per_topic]
    return found


def advice_on(context: str) -> list[str]:
    """A synthesis: the advice of every topic whose findings the memory block holds, in table order."""
    known = content_words(context)
    held = [t for t in TOPICS if t.advice and any(is_known(f, known) for f in t.findings)]
    return [topic.advice for topic in held]


def answer(topics: list[Topic], context: str) -> list[str]:
    """What the model says about these topics, given the recalled memory block; [] when it has nothing new."""
    if len(topics) == 1 and topics[0].alone and not topics[0].findings:
        return advice_on(context)
    return new_findings(topics, context)
