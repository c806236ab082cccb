"""Parallel agents for handoff tests and benches: one source for tests/sdk/test_handoffs.py and
bench/handoffs_agents.py, so that a test's 12 agents are the bench's first 12.

Each agent is (process, task, finding, marker): the task it was given, the finding it reports (a
self-contained statement, as a model would reply it: what the `rules` extractor stores) and words
of the finding that identify it in a prompt. No finding shares a content word with `SYNTHESIS_TASK`:
only a handoff policy, not relevance, brings them to the synthesis agent.
"""

from __future__ import annotations

from typing import NamedTuple


class ParallelAgent(NamedTuple):
    process: str
    task: str
    finding: str
    marker: str


PARALLEL_AGENTS = [ParallelAgent(*agent) for agent in (
    ("market_agent", "Analyze the AI market landscape.",
     "The AI infrastructure market reached 2.4 billion dollars in 2024.", "2.4 billion"),
    ("competitor_agent", "Research the top competitors.",
     "The top competitors are Mem0, Zep, Letta and LangMem.", "Letta"),
    ("technical_agent", "Evaluate vector database options.",
     "Qdrant gave the lowest query latency among the vector databases tested.", "Qdrant"),
    ("pricing_agent", "Research pricing strategies.",
     "Usage-based pricing converts better than seat licences for developer tools.", "seat licences"),
    ("legal_agent", "Review the data retention rules.",
     "GDPR requires deleting a user's memories within 30 days of a request.", "30 days"),
    ("security_agent", "Audit the token storage.",
     "Refresh tokens are stored unencrypted in the Redis cache.", "unencrypted"),
    ("hiring_agent", "Check the hiring plan.",
     "Two senior backend engineers start on the first of June.", "backend engineers"),
    ("support_agent", "Summarize the support tickets.",
     "Most support tickets last week were about failed CSV imports.", "CSV imports"),
    ("ux_agent", "Run the usability study.",
     "Seven of ten testers could not find the export button.", "export button"),
    ("finops_agent", "Review the cloud spending.",
     "GPU spending doubled in March because of idle inference nodes.", "idle inference"),
    ("sales_agent", "Report on the enterprise pipeline.",
     "Acme Corp signed a pilot worth 80 thousand euros.", "Acme"),
    ("partnership_agent", "Check the partner integrations.",
     "LangChain agreed to list our SDK on its integrations page.", "LangChain"),
    ("docs_agent", "Review the documentation.",
     "The quickstart guide still shows the deprecated v1 API key header.", "quickstart"),
    ("ingestion_agent", "Profile the ingestion pipeline.",
     "Ingestion stalls when batches exceed 500 documents.", "500 documents"),
    ("mobile_agent", "Test the mobile apps.",
     "The Android app crashes on uploads larger than 20 MB.", "Android"),
    ("data_agent", "Check the customer data quality.",
     "Eleven percent of customer records have no country code.", "country code"),
    ("growth_agent", "Analyze the launch signups.",
     "Signups from the Product Hunt launch converted at 14 percent.", "Product Hunt"),
    ("billing_agent", "Audit the enterprise invoices.",
     "Three enterprise invoices were charged twice in April.", "charged twice"),
    ("qa_agent", "Investigate the flaky tests.",
     "The flaky scheduler test fails once in forty runs.", "forty runs"),
    ("events_agent", "Price the conference options.",
     "The KubeCon booth costs 12 thousand dollars for three days.", "KubeCon"),
    ("brand_agent", "Test the brand perception.",
     "Developers associate our logo with databases rather than agents.", "logo"),
    ("reliability_agent", "Write the outage postmortem.",
     "The March outage lasted 47 minutes and was caused by an expired certificate.", "expired certificate"),
    ("runway_agent", "Estimate the runway.",
     "At the current burn rate the runway lasts 19 months.", "19 months"),
    ("papers_agent", "Review the memory research papers.",
     "Graph-based memory improved multi-hop answers by 9 points in the MemGPT study.", "multi-hop"),
)]  # fmt: skip
SYNTHESIS_TASK = "Synthesize all research findings into strategic recommendations."
