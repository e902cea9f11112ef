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
