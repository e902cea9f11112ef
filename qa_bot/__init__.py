"""qa-bot: cited answers to questions about news articles, offline."""

from qa_bot.api import QABot
from qa_bot.errors import QABotError
from qa_bot.settings import Settings
from qa_bot.store import Filters
from qa_bot.types import Answer, Citation, IngestReport

__all__ = ["Answer", "Citation", "Filters", "IngestReport", "QABot", "QABotError", "Settings"]
__version__ = "0.1.0"
