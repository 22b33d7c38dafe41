"""Training, evaluation and export (needs the ``train`` extra: torch, scikit-learn, matplotlib...)."""
