"""Text embeddings for recall and a token counter for recall budgets.

`get_embedder()` picks the process-wide embedder from the `MEMORI_EMBEDDER` setting; the default
`static` one ships inside this package and needs only numpy and `tokenizers`, no download.
Nothing here imports Django at module level.
"""

from memory.embedding.base import Embedder
from memory.embedding.registry import from_bytes, get_embedder, to_bytes
from memory.embedding.tokens import count_tokens

__all__ = ["Embedder", "count_tokens", "from_bytes", "get_embedder", "to_bytes"]
