#!/usr/bin/env bash
# The speed and detection benchmarks (docs/benchmarks.md, docs/face-detection.md), one after another (about 12
# minutes on 2 cores); the accuracy benchmarks (pipeline_accuracy, score_results) and the others run on their own.
# Run from the repository root with the project's environment active; close other busy programs first.
set -euo pipefail
python bench/make_clips.py
for faces in 1 2 4; do
  for detector in sweep full; do
    echo "== python -m realtime --benchmark --source bench/clips/faces$faces.mp4 --detector $detector"
    python -m realtime --benchmark --no-display --source "bench/clips/faces$faces.mp4" --detector "$detector"
  done
done
for detector in sweep full; do
  echo "== python -m realtime --benchmark --source bench/clips/small4.mp4 --detector $detector"
  python -m realtime --benchmark --no-display --source bench/clips/small4.mp4 --detector "$detector"
done
echo "== bench/classify_speed.py"; python bench/classify_speed.py
echo "== bench/detection_recall.py 1280x720"; python bench/detection_recall.py --size 1280x720
echo "== bench/detection_recall.py 640x480"; python bench/detection_recall.py --size 640x480
echo "== bench/detection_recall.py, scenes turned 90 and 180 degrees"
for turn in 90 180; do python bench/detection_recall.py --detectors tiled,tiled+upright --scenes 20 --turn "$turn"; done
echo "== bench/folder_speed.py: a folder of photos, one at a time against two side by side"
python bench/folder_speed.py --photos 400
if python -c "import fer" 2>/dev/null; then
  echo "== bench/compare_fer.py"; python bench/compare_fer.py
else
  echo "== bench/compare_fer.py skipped: pip install --no-deps fer==25.10.3"
fi
