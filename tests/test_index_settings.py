"""An index remembers how it was built: other chunk sizes re-cut it, another model is refused."""

import pytest

from qa_bot import QABot
from qa_bot.errors import StoreError

from conftest import SEED_DOC, SEEDS


def test_changing_chunk_size_recuts_articles_instead_of_keeping_old_chunks(tmp_path):
    index = tmp_path / "index"
    small = QABot(index_dir=index, chunk_words=40)
    small.ingest([SEEDS])
    n_small = small.count_chunks()
    again = small.ingest([SEEDS])
    assert again.unchanged == [SEED_DOC]

    large = QABot(index_dir=index, chunk_words=120)
    report = large.ingest([SEEDS])
    assert report.updated == [SEED_DOC]
    assert 0 < large.count_chunks() < n_small
    assert all(len(c.text.split()) <= 160 for c in large.store.iter_chunks())


def test_an_index_built_with_one_model_refuses_another(tmp_path):
    index = tmp_path / "index"
    QABot(index_dir=index).ingest([SEEDS])
    with pytest.raises(StoreError, match="was built with the embedding model 'all-MiniLM-L6-v2'"):
        QABot(index_dir=index, embed_model="some/other-model")


def test_ingest_and_store_limits_follow_the_bots_settings_env_included(tmp_path, monkeypatch):
    """The limits the ingest and the store apply are the bot's (env and keyword overrides reach
    them), not the Settings defaults."""
    from qa_bot.errors import InputError

    noisy = tmp_path / "noisy" / "noisy.txt"
    noisy.parent.mkdir()
    words = "The council met on Tuesday and approved the harbour budget for next year. " * 8
    noisy.write_text("".join(ch + ("\x07" if i % 10 == 0 else "") for i, ch in enumerate(words)), encoding="utf-8")
    with pytest.raises(InputError, match="control codes"):
        QABot(index_dir=tmp_path / "strict").ingest([noisy])

    # one control code in a long text passes the default share, not a share of 0
    lone = noisy.with_name("lone.txt")
    lone.write_text(words + "\x07", encoding="utf-8")
    assert QABot(index_dir=tmp_path / "default").ingest([lone]).added == ["lone"]
    with pytest.raises(InputError, match="control codes"):
        QABot(index_dir=tmp_path / "none", max_control_share=0).ingest([lone])

    monkeypatch.setenv("QA_BOT_MAX_CONTROL_SHARE", "0.5")
    monkeypatch.setenv("QA_BOT_LEXICAL_MAX_POSTINGS", "77")
    bot = QABot(index_dir=tmp_path / "lenient", registry_text_max_chars=100)
    assert bot.ingest([noisy]).added == ["noisy"]
    assert bot.retriever.lexical._max_postings == 77
    # past the registry limit the text is kept in the chunks only, and still shown whole
    assert bot.store._articles.get(ids=["noisy"], include=["documents"])["documents"] == [""]
    record, text = bot.article("noisy")
    assert text.replace("\x07", "").strip() == words.strip()
