"""From a standalone question to ranked chunks."""

from qa_bot.retrieve.fusion import reciprocal_rank_fusion
from qa_bot.retrieve.hybrid import HybridRetriever

__all__ = ["HybridRetriever", "reciprocal_rank_fusion"]
