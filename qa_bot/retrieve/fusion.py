"""Reciprocal-rank fusion: combines ranked lists whose scores are not comparable (cosine vs. BM25)."""

from __future__ import annotations

from collections.abc import Sequence

from qa_bot.types import ScoredChunk


def reciprocal_rank_fusion(
    rankings: Sequence[Sequence[ScoredChunk]], k: int = 60, weights: Sequence[float] | None = None
) -> list[ScoredChunk]:
    """Sum of weight / (k + rank) per chunk id, best first.

    k = 60 is the constant of Cormack et al. (2009): large enough that one list's top hit cannot
    outvote agreement between lists further down.
    """
    if k <= 0:
        raise ValueError(f"k must be > 0, got {k}")
    weights = weights or [1.0] * len(rankings)
    if len(weights) != len(rankings):
        raise ValueError(f"need one weight per ranking, got {len(weights)} for {len(rankings)}")
    fused: dict[str, float] = {}
    best: dict[str, ScoredChunk] = {}
    dense_rank: dict[str, int] = {}
    lexical_rank: dict[str, int] = {}
    for ranking, weight in zip(rankings, weights):
        for rank, item in enumerate(ranking, 1):
            cid = item.chunk.chunk_id
            fused[cid] = fused.get(cid, 0.0) + weight / (k + rank)
            best.setdefault(cid, item)
            if item.dense_rank is not None:
                dense_rank.setdefault(cid, item.dense_rank)
            if item.lexical_rank is not None:
                lexical_rank.setdefault(cid, item.lexical_rank)
    order = sorted(fused, key=lambda cid: (-fused[cid], cid))
    return [
        ScoredChunk(
            chunk=best[cid].chunk,
            score=fused[cid],
            dense_rank=dense_rank.get(cid),
            lexical_rank=lexical_rank.get(cid),
        )
        for cid in order
    ]
