"""The recall engine: which of an entity's memories go into this prompt.

One module per job: `config` (the settings, read once per call), `text` (lexical tokens), `lexical`
(BM25), `vector` (the dense index interface), `rows` and `index` (the per-entity in-process cache),
`ranking` (fusion, priors, dedup, threshold), `handoff` and `recent` (other agents' recent work),
`hits` (the one recalled item), `context` (pending exchanges and session history),
`pending_updates` (memories that pending work gives a newer value of), `compose` and `block` (the
injected text), `events` (what the dashboard reads back), `steps` (index → rank → handoffs →
pending → render). `memory.services.recall.recall_for_call` resolves the request, runs the steps
and records the event; the SQL behind it is in memory/db/recall_events.py.
"""
