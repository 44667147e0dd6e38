"""The hotline knowledge base (Art 10): entries kept by units, imported policy documents."""
