#!/usr/bin/env bash
# Measure the shipped recipe on the three speaker-independent protocols, single-corpus and
# multi-corpus (the -multi ones also train on all of the other three corpora), with `emovox evaluate`
# (each fold retrains the recipe from scratch).
# Cross-corpus protocols of 1.x (cross-ravdess, cross-emodb, cross-turev; loco replaces them): train the
# recipe on the other two corpora (all speakers), then score the whole held-out corpus on the labels the training corpora
# have (clips of other emotions are dropped and counted in the report); then again after adapting the
# model to 50 random unlabelled clips of the held-out corpus (Recognizer.adapt), into <protocol>-adapted.
# loco: leave one corpus out over the four corpora (`emovox evaluate --loco`): for each corpus, train the
# recipe on the other three and test on it (4 common emotions, shared labels, ECE): the primary criterion.
# Usage: benchmarks/evaluate_default_model.sh [protocol ...]   (default: the six within-corpus ones)
# Reports go to benchmarks/results/emovox-base/<protocol>/ (report.md, report.json, plots).
set -euo pipefail
cd "$(dirname "$0")/.."
C=${EMOVOX_CORPORA:-../shared/corpora}
R=src/emovox/assets/emovox-base/recipe.json
OUT=benchmarks/results/emovox-base
RAV=$C/ravdess/manifest.csv EMO=$C/emodb_2s/manifest.csv TUR=$C/turev_db/manifest.csv ASED=$C/ased/manifest.csv
RAV_LABELS=neutral,calm,happy,sad,angry,fearful,disgust,surprised
EMO_LABELS=neutral,happy,sad,angry,fearful,disgust,boredom
TUR_LABELS=calm,happy,sad,angry
run() { echo "== $1"; shift; nice -n 10 python -m emovox evaluate --config "$R" "$@"; }
cross() {  # cross NAME TEST_MANIFEST LABELS TRAIN_MANIFEST...
  local name=$1 test=$2 labels=$3; shift 3
  local tmp; tmp=$(mktemp -d); trap 'rm -rf "$tmp"' RETURN
  echo "== $name"
  nice -n 10 python -m emovox train --config "$R" $(printf -- '--manifest %s ' "$@") --out "$tmp/model" \
    --name "$name" --version 1
  nice -n 10 python -m emovox evaluate --model "$tmp/model" --manifest "$test" --labels "$labels" \
    --drop-other --report $OUT/$name
  nice -n 10 python -m emovox evaluate --model "$tmp/model" --manifest "$test" --labels "$labels" \
    --drop-other --adapt 50 --report $OUT/$name-adapted
}
for p in "${@:-ravdess emodb turev ravdess-multi emodb-multi turev-multi}"; do
  for q in $p; do
    case $q in
      loco) run $q --loco --manifest "$RAV" --manifest "$EMO" --manifest "$TUR" --manifest "$ASED" \
              --report $OUT/$q ;;
      ravdess) run $q --manifest "$RAV" --folds "$C/ravdess/folds.csv" --report $OUT/$q ;;
      emodb) run $q --manifest "$EMO" --loso --report $OUT/$q ;;
      turev) run $q --manifest "$TUR" --loso --report $OUT/$q ;;
      ravdess-multi) run $q --manifest "$RAV" --folds "$C/ravdess/folds.csv" --train-manifest "$EMO" \
                       --train-manifest "$TUR" --train-manifest "$ASED" --labels $RAV_LABELS --report $OUT/$q ;;
      emodb-multi) run $q --manifest "$EMO" --loso --train-manifest "$RAV" --train-manifest "$TUR" \
                     --train-manifest "$ASED" --labels $EMO_LABELS --report $OUT/$q ;;
      turev-multi) run $q --manifest "$TUR" --loso --train-manifest "$RAV" --train-manifest "$EMO" \
                     --train-manifest "$ASED" --labels $TUR_LABELS --report $OUT/$q ;;
      cross-ravdess) cross $q "$RAV" neutral,calm,happy,sad,angry,fearful,disgust "$EMO" "$TUR" ;;
      cross-emodb) cross $q "$EMO" neutral,happy,sad,angry,fearful,disgust "$RAV" "$TUR" ;;
      cross-turev) cross $q "$TUR" $TUR_LABELS "$RAV" "$EMO" ;;
      *) echo "unknown protocol $q" >&2; exit 2 ;;
    esac
  done
done
