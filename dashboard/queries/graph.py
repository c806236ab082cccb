"""Graph Explorer reads: the strongest triples of an entity under filters, laid out as a network.

At most ``EDGE_CAP`` edges are drawn, ranked by mentions, then recalls, then recency; the page says
how many matching triples were left out. Layouts are cached per entity memory version and filters,
so a reload or a node click never lays out twice.
"""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass
from datetime import datetime

from django.core.cache import cache
from django.db.models import Exists, F, OuterRef, Q, QuerySet, Subquery

from dashboard.charts.graph_layout import spring_layout
from dashboard.web.query_params import query_moment
from memory.models import AugmentationJob, Entity, Exchange, Memory, Node, Provenance, Triple
from memory.services.contradictions import is_single_valued

EDGE_CAP = 300
NODE_TRIPLES_SHOWN = 100
NODE_FACTS_SHOWN = 50


@dataclass(frozen=True)
class GraphFilters:
    process: str = ""
    kind: str = ""
    text: str = ""
    start: datetime | None = None
    end: datetime | None = None

    @classmethod
    def from_query(cls, params) -> GraphFilters:
        """Raises InvalidQuery for a start or end that is not an existing date (and time)."""
        return cls(
            process=(params.get("process") or "")[:200],
            kind=(params.get("kind") or "")[:50],
            text=(params.get("q") or "").strip()[:200],
            start=query_moment("start", params.get("start")),
            end=query_moment("end", params.get("end")),
        )

    @property
    def active(self) -> bool:
        return any((self.process, self.kind, self.text, self.start, self.end))

    def cache_key(self, entity: Entity) -> str:
        raw = repr(sorted(asdict(self).items()))
        digest = hashlib.sha1(raw.encode(), usedforsecurity=False).hexdigest()
        return f"dashboard:graph:{entity.pk}:{entity.memory_version}:{digest}"


@dataclass
class GraphView:
    nodes: list[dict]
    edges: list[dict]
    matching: int
    left_out: int

    @property
    def processes(self) -> list[str]:
        return sorted({edge["process"] for edge in self.edges})

    @property
    def contradicted(self) -> int:
        return sum(1 for edge in self.edges if edge["contradicted"])

    @property
    def superseded(self) -> int:
        return sum(1 for edge in self.edges if edge["superseded"])


@dataclass(frozen=True)
class AugmentationState:
    """Why a graph may be empty: nothing recorded yet, work still queued, or nothing to relate."""

    exchanges: int
    pending: int


def filtered_triples(entity: Entity, filters: GraphFilters) -> QuerySet[Triple]:
    triples = Triple.objects.filter(entity=entity)
    if filters.process:
        contributed = Provenance.objects.filter(triple=OuterRef("pk"), process__external_id=filters.process)
        triples = triples.filter(Exists(contributed))
    if filters.kind:
        triples = triples.filter(Q(subject__node_type=filters.kind) | Q(object__node_type=filters.kind))
    if filters.text:
        triples = triples.filter(
            Q(content__icontains=filters.text)
            | Q(subject__name__icontains=filters.text)
            | Q(object__name__icontains=filters.text)
        )
    if filters.start:
        triples = triples.filter(last_seen_at__gte=filters.start)
    if filters.end:
        triples = triples.filter(first_seen_at__lt=filters.end)
    return triples


def graph_view(entity: Entity, filters: GraphFilters) -> GraphView:
    key = filters.cache_key(entity)
    cached = cache.get(key)
    if cached is not None:
        return cached
    triples = filtered_triples(entity, filters)
    edges = [
        {
            "id": row["id"],
            "source": row["subject_id"],
            "target": row["object_id"],
            "source_name": row["subject__name"],
            "target_name": row["object__name"],
            "predicate": row["predicate__name"],
            "process": row["first_process__external_id"] or "unknown",
            "mentions": row["mention_count"],
            "content": row["content"],
            "contradicted": row["is_contradicted"],
            "first_seen_at": row["first_seen_at"],
        }
        for row in triples.order_by("-mention_count", "-recall_count", "-last_seen_at", "pk").values(
            "id",
            "subject_id",
            "object_id",
            "subject__name",
            "object__name",
            "predicate__name",
            "first_process__external_id",
            "mention_count",
            "content",
            "is_contradicted",
            "first_seen_at",
        )[:EDGE_CAP]
    ]
    superseded = superseded_triple_ids(entity, edges)
    for edge in edges:
        edge["superseded"] = edge["id"] in superseded
    matching = len(edges) if len(edges) < EDGE_CAP else triples.count()
    view = GraphView(nodes=_nodes_of(edges), edges=edges, matching=matching, left_out=matching - len(edges))
    cache.set(key, view, 300)
    return view


def superseded_triple_ids(entity: Entity, triples: list[dict]) -> set[int]:
    """Which of ``triples`` ({id, source, predicate, target, contradicted, first_seen_at}) a later
    value replaced: a single-valued predicate ("lives_in", "*_is") said of the same subject with
    another object later, the update rule of memory.services.contradictions (values said at about
    the same time by two processes are a contradiction instead, and flagged as such). One query,
    and none when no drawn predicate holds one value at a time."""
    single = [t for t in triples if is_single_valued(t["predicate"]) and not t["contradicted"]]
    if not single:
        return set()
    newest: dict[tuple[int, str], list[tuple]] = defaultdict(list)
    for subject_id, predicate, object_id, seen in Triple.objects.filter(
        entity=entity,
        subject_id__in={t["source"] for t in single},
        predicate__name__in={t["predicate"] for t in single},
    ).values_list("subject_id", "predicate__name", "object_id", "first_seen_at"):
        newest[(subject_id, predicate)].append((seen, object_id))
    return {
        t["id"]
        for t in single
        if any(seen > t["first_seen_at"] and obj != t["target"] for seen, obj in newest[(t["source"], t["predicate"])])
    }


def augmentation_state(entity: Entity) -> AugmentationState:
    """Counts an empty graph explains itself with (two indexed counts)."""
    unfinished = [AugmentationJob.Status.QUEUED, AugmentationJob.Status.RUNNING]
    return AugmentationState(
        exchanges=Exchange.objects.filter(entity=entity).count(),
        pending=AugmentationJob.objects.filter(entity=entity, status__in=unfinished).count(),
    )


def _nodes_of(edges: list[dict]) -> list[dict]:
    names: dict[int, str] = {}
    mentions: Counter = Counter()
    process_weight: dict[int, Counter] = defaultdict(Counter)
    for edge in edges:
        for end in ("source", "target"):
            node_id = edge[end]
            names[node_id] = edge[f"{end}_name"]
            mentions[node_id] += edge["mentions"]
            process_weight[node_id][edge["process"]] += edge["mentions"]
    order = sorted(names)
    index = {node_id: position for position, node_id in enumerate(order)}
    positions = spring_layout(
        len(order), [(index[edge["source"]], index[edge["target"]], edge["mentions"]) for edge in edges]
    )
    return [
        {
            "id": node_id,
            "name": names[node_id],
            "x": round(float(positions[index[node_id]][0]), 4),
            "y": round(float(positions[index[node_id]][1]), 4),
            "mentions": mentions[node_id],
            "process": process_weight[node_id].most_common(1)[0][0],
        }
        for node_id in order
    ]


def _first_mention(target: str) -> dict:
    """Annotations naming where something was first said: message, session and process."""
    first = Provenance.objects.filter(**{target: OuterRef("pk")}).order_by("mentioned_at", "pk")
    return {
        "source_message_id": Subquery(first.values("message_id")[:1]),
        "source_session_id": Subquery(first.values("session_id")[:1]),
        "source_exchange_id": Subquery(first.values("exchange_id")[:1]),
    }


def node_detail(entity: Entity, node_id: int) -> dict | None:
    """One node: its triples (either end) and the memories whose text mentions it, with their sources."""
    node = Node.objects.filter(entity=entity, pk=node_id).first()
    if node is None:
        return None
    triples = list(
        Triple.objects.filter(Q(subject=node) | Q(object=node), entity=entity)
        .select_related("subject", "predicate", "object", "first_process")
        .annotate(**_first_mention("triple"))
        .order_by("-mention_count", "-last_seen_at")[:NODE_TRIPLES_SHOWN]
    )
    superseded = superseded_triple_ids(
        entity,
        [
            {"id": t.pk, "source": t.subject_id, "target": t.object_id, "predicate": t.predicate.name,
             "contradicted": t.is_contradicted, "first_seen_at": t.first_seen_at}
            for t in triples
        ],
    )  # fmt: skip
    for triple in triples:
        triple.is_superseded = triple.pk in superseded
    facts = (
        Memory.objects.filter(entity=entity, normalized__icontains=node.normalized_name)
        .select_related("first_process", "superseded_by")
        .annotate(**_first_mention("memory"))
        .order_by(F("valid_to").asc(nulls_first=True), "-mention_count", "-last_seen_at")[:NODE_FACTS_SHOWN]
    )
    return {"node": node, "triples": triples, "facts": list(facts)}
