"""What the web chat keeps per browser session (in Gradio state): the exchanges shown, as our own types."""

from __future__ import annotations

from dataclasses import dataclass

from assistant.types import Answer, RecordedTurn


@dataclass(frozen=True)
class Exchange:
    """One question of the web chat as shown: answered (`answer`), failed (`error`), or still being answered
    (`partial`: the text streamed so far)."""

    question: str
    answer: Answer | None = None
    error: str | None = None
    partial: str = ""

    @classmethod
    def recorded(cls, turn: RecordedTurn) -> Exchange:
        """A stored turn of the conversation, as shown after a page reload."""
        return cls(turn.answer.question, turn.answer)
