"""Expert neurons: find the units a language model uses for human concepts.

The method of "Analyze the Neurons, not the Embeddings" (Fedzechkina et al.,
2025), after the expert-finding of Suau et al. (apple/ml-selfcond). ``core``
is a plain library: it never imports Streamlit, and the modules that browse
the store never import torch.
"""

__version__ = "0.1.0"
