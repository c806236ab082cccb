"""The recall engine: which of an entity's memories go into this prompt.

One module per job: `text` (lexical tokens), `lexical` (BM25), `vector` (the dense index interface),
`index` (the per-entity in-process cache), `ranking` (fusion, priors, dedup, threshold, budget),
`context` (pending exchanges and session history), `block` (the injected text), `events` (what the
dashboard reads back). `memory.services.recall.recall_for_call` puts them together.
"""
