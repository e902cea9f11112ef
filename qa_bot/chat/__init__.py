"""Conversation: follow-ups rewritten into standalone questions."""

from qa_bot.chat.condense import condense, is_follow_up

__all__ = ["condense", "is_follow_up"]
