import subprocess
import sys

import numpy as np

import emovox
from conftest import subprocess_env


def test_import_is_light():
    code = "import sys, emovox, emovox.io.audio, emovox.labels; print(sorted(m for m in ('torch','transformers','fastapi','ray') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=subprocess_env()).stdout
    assert out.strip() == "[]"


def test_hf_tiny_model_predicts(tiny_hf_model):
    model = emovox.load_model(str(tiny_hf_model), features=False)
    assert model.labels == ("angry", "happy", "neutral", "sad")
    p = model.predict((np.random.default_rng(0).standard_normal(16000).astype(np.float32) * 0.1, 16000))
    assert abs(sum(p.scores.values()) - 1) < 1e-6
    assert p.emotion in model.labels
