"""The page `python -m realtime.web` serves: HTML, CSS and plain JavaScript in one string (no build step,
nothing fetched from anywhere but the app itself)."""

from __future__ import annotations

import html
import json

from realtime.draw import colour_of


def page(labels: list[str], classes: list[str] | None = None) -> str:
    """The page, with the expression colours of the desktop overlay and the classes it answers (`classes`, as
    `--classes` keeps them; else every label of the model) filled in."""
    colours = {name: "rgb({2},{1},{0})".format(*colour_of(name)) for name in classes or labels}  # (the table's rows)
    return PAGE.replace("/*COLOURS*/{}", json.dumps(colours)).replace("<!--LABELS-->",
                                                                      html.escape(", ".join(classes or labels)))


PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>emotion-overlay</title>
<link rel="icon" href="data:,">
<style>
  body { font: 15px/1.4 system-ui, sans-serif; margin: 0 auto; max-width: 1200px; padding: 12px 20px; color: #222; }
  h1 { font-size: 22px; margin: 4px 0; } h2 { font-size: 17px; margin: 0 0 8px; }
  .note { color: #666; font-size: 13px; }
  .panels { display: grid; grid-template-columns: 1fr 1fr; gap: 20px; margin-top: 12px; }
  @media (max-width: 900px) { .panels { grid-template-columns: 1fr; } }
  section { border: 1px solid #ddd; border-radius: 8px; padding: 14px; min-width: 0; }
  #drop { display: block; border: 2px dashed #aaa; border-radius: 8px; padding: 18px; text-align: center; cursor: pointer; }
  #drop.over { border-color: #2a7; background: #efe; }
  #file { display: block; margin: 8px auto 0; }
  .status { margin: 8px 0; min-height: 1.4em; } .error { color: #b00; font-weight: 600; }
  img, video { max-width: 100%; display: block; border-radius: 4px; }
  #result img, #result video { width: 100%; max-height: 45vh; object-fit: contain; background: #f4f4f4; }  /* small photos enlarged */
  .face canvas { float: right; width: 56px; height: 56px; border-radius: 4px; margin-left: 6px; }
  .live { position: relative; } .live canvas { position: absolute; left: 0; top: 0; width: 100%; height: 100%; }
  .live video { width: 100%; }  /* as wide as the boxes drawn over it: in a narrow window the picture kept its own width */
  #camera { transform: scaleX(-1); }  /* shown as a mirror shows you, as the program shows a camera */
  .faces { display: flex; flex-wrap: wrap; gap: 10px; margin-top: 10px; }
  .face { border: 1px solid #ddd; border-radius: 6px; padding: 6px 8px; width: 230px; }
  .face b { display: block; margin-bottom: 4px; }
  .face table { border-collapse: collapse; width: 100%; font-size: 13px; }
  .face td { padding: 1px 3px; } .face td.p { text-align: right; width: 3.5em; }
  .bar { height: 10px; border-radius: 2px; min-width: 1px; }
  button { font: inherit; padding: 4px 14px; margin-right: 6px; }
</style>
</head>
<body>
<h1>emotion-overlay</h1>
<div class="note">Facial-expression labels (<!--LABELS-->), computed on this machine by the same program as
<code>python -m realtime</code>. Nothing leaves this computer.</div>
<div class="panels">
<section>
  <h2>Photo or video</h2>
  <label id="drop">Drop a photo (jpg, png, webp, heic, avif, gif, bmp, tiff) or a short video (mp4, mov, webm, avi) here, or
    choose one:
    <input id="file" type="file" accept="image/jpeg,image/png,image/webp,image/heic,image/heif,image/avif,image/gif,image/bmp,image/tiff,.heic,.heif,.avif,.gif,.bmp,.tif,.tiff,video/*,.avi,.mov,.mkv,.m4v,.ts,.mts,.m2ts,.mpg,.mpeg,.3gp,.wmv,.asf,.flv,.ogv,.vob">
  </label>
  <div id="status" class="status"></div>
  <div id="result"></div>
  <div id="faces" class="faces"></div>
</section>
<section>
  <h2>Webcam</h2>
  <div class="note">Labels your webcam's picture up to 15 times a second, like the desktop program does
  (the browser asks for permission first; the frames go to this machine's server only).</div>
  <p><button id="start">Start camera</button><button id="stop" disabled>Stop</button></p>
  <div id="liveStatus" class="status"></div>
  <div class="live"><video id="camera" muted playsinline></video><canvas id="overlay"></canvas></div>
  <div id="liveFaces" class="faces"></div>
</section>
</div>
<script>
"use strict";
const COLOURS = /*COLOURS*/{};
const $ = (id) => document.getElementById(id);
const percent = (p) => `${Math.round(p * 100)}%`;
const sleep = (ms) => new Promise((done) => setTimeout(done, ms));

function say(element, text, error = false) {
  element.textContent = text;
  element.className = error ? "status error" : "status";
}

function faceCard(face, image, enlarged) {
  const card = document.createElement("div");
  card.className = "face";
  if (image) {  // a thumbnail of the face, to tell which card is whose (a small photo is drawn enlarged)
    const [x0, y0, x1, y1] = face.box.map((v) => v * enlarged), thumbnail = document.createElement("canvas");
    thumbnail.width = thumbnail.height = 112;
    thumbnail.getContext("2d").drawImage(image, x0, y0, x1 - x0, y1 - y0, 0, 0, 112, 112);
    card.append(thumbnail);
  }
  const title = document.createElement("b");
  title.textContent = `Face ${face.id}: ${face.label} ${percent(face.probability)}${face.held ? " (held)" : ""}`;
  const table = document.createElement("table");
  for (const name of Object.keys(COLOURS)) {  // the classes answered, in their order (--classes)
    const p = face.probabilities[name] ?? 0;
    const row = table.insertRow();
    row.insertCell().textContent = name;
    const bar = document.createElement("div");
    bar.className = "bar";
    bar.style.width = percent(p);
    bar.style.background = COLOURS[name] || "#999";
    const cell = row.insertCell();
    cell.style.width = "55%";
    cell.append(bar);
    const value = row.insertCell();
    value.className = "p";
    value.textContent = percent(p);
  }
  card.append(title, table);
  return card;
}

function showFaces(element, faces, image = null, enlarged = 1) {  // in the order of their ids: a card keeps its place as a
  // video plays, where the faces (largest first) change places as their sizes do
  element.replaceChildren(...[...faces].sort((a, b) => a.id - b.id).map((face) => faceCard(face, image, enlarged)));
}

async function post(url, body, headers = {}, signal = undefined) {
  const response = await fetch(url, { method: "POST", body, headers, signal });
  const answer = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(answer.error || `the server answered HTTP ${response.status}`);
  return answer;
}

// Photo or video: uploaded, labelled by the server, shown annotated with each face's probabilities. A file chosen
// while another is labelled takes its place: the other's answer is not waited for, nor shown (both were shown, one
// under the other, and the text said the second's).
let uploading = null;
async function upload(file) {
  const status = $("status");
  if (uploading) uploading.abort();
  const mine = uploading = new AbortController();
  $("result").replaceChildren();
  showFaces($("faces"), []);
  say(status, `Labelling ${file.name} (${(file.size / 1e6).toFixed(1)} MB)…`);
  const form = new FormData();
  form.append("file", file);
  let answer;
  try {
    answer = await post("/api/annotate", form, {}, mine.signal);
  } catch (error) {
    if (mine === uploading) say(status, `Error: ${error.message.replaceAll("`", "'")}`, true);
    return;
  }
  if (mine !== uploading) return;
  uploading = null;
  if (answer.kind === "image") {
    const image = document.createElement("img");
    image.id = "annotated";
    image.alt = `${file.name}, annotated`;
    const faces = answer.records.faces;
    image.addEventListener("load", () => showFaces($("faces"), faces, image, answer.enlarged || 1));
    image.src = answer.media;
    $("result").append(image);
    say(status, `${file.name}: ${faces.length} face${faces.length === 1 ? "" : "s"} found, labelled in ${answer.seconds.toFixed(2)} s.` +
        (answer.warning ? ` Note: ${answer.warning}.` : ""), Boolean(answer.warning));
    downloads(file.name, answer.media, [answer.records]);
  } else {
    const records = answer.records;
    const video = document.createElement("video");
    video.id = "annotated";
    video.controls = true;
    video.src = answer.media;
    $("result").append(video);
    const show = () => {  // the faces of the frame on screen
      let low = 0, high = records.length - 1;
      while (low < high) {
        const middle = (low + high + 1) >> 1;
        if (records[middle].time <= video.currentTime + 1e-3) low = middle; else high = middle - 1;
      }
      if (records.length) showFaces($("faces"), records[low].faces);
    };
    video.addEventListener("timeupdate", show);
    video.addEventListener("seeked", show);
    show();
    say(status, `${file.name}: ${records.length} frames labelled in ${answer.seconds.toFixed(1)} s. The faces below follow the video.` +
        (answer.warning ? ` Note: ${answer.warning}.` : ""), Boolean(answer.warning));
    downloads(file.name, answer.media, records);
  }
}

function downloads(name, media, records) {  // the annotated file, and the results as `--json` writes them
  const stem = name.replace(/\\.[^.]*$/, ""), links = document.createElement("p");
  links.className = "downloads";
  const annotated = document.createElement("a"), results = document.createElement("a");
  annotated.href = media;
  annotated.download = `${stem}-labelled${media.slice(media.lastIndexOf("."))}`;
  annotated.textContent = "Download the annotated file";
  const lines = records.map((record) => JSON.stringify(record)).join("\\n") + "\\n";
  results.href = URL.createObjectURL(new Blob([lines], { type: "application/x-ndjson" }));
  results.download = `${stem}.jsonl`;
  results.textContent = "the results (JSON lines)";
  links.append(annotated, " · ", results);
  $("result").append(links);
}

$("file").addEventListener("change", () => {
  const file = $("file").files[0];
  $("file").value = "";  // (the same file chosen again is a change too: choosing it again did nothing)
  if (file) upload(file);
});
const drop = $("drop");
drop.addEventListener("dragover", (event) => { event.preventDefault(); drop.classList.add("over"); });
drop.addEventListener("dragleave", () => drop.classList.remove("over"));
drop.addEventListener("drop", (event) => {
  event.preventDefault();
  drop.classList.remove("over");
  if (event.dataTransfer.files.length) upload(event.dataTransfer.files[0]);
});

// Webcam: up to 15 frames a second go to the server (one at a time), the boxes come back and are drawn
// over the live picture. The frames of one stream are labelled as a video: tracked and smoothed.
let camera = null, streamId = null;

function drawBoxes(record, width, height) {
  const canvas = $("overlay");
  canvas.width = width;
  canvas.height = height;
  const context = canvas.getContext("2d");
  context.clearRect(0, 0, width, height);
  context.font = `${Math.max(12, Math.round(width / 40))}px system-ui, sans-serif`;
  context.lineWidth = Math.max(2, width / 320);
  for (const face of record.faces) {
    const [left, y0, right, y1] = face.box;  // in the frame as the camera sent it; the picture is shown mirrored
    const x0 = width - right, x1 = width - left;
    const colour = COLOURS[face.label] || "#999";
    context.strokeStyle = colour;
    context.strokeRect(x0, y0, x1 - x0, y1 - y0);
    const caption = `${record.faces.length > 1 ? `#${face.id} ` : ""}${face.label} ${percent(face.probability)}`;
    const size = context.measureText(caption);
    const lineHeight = parseInt(context.font, 10) + 6;
    const top = y0 >= lineHeight ? y0 - lineHeight : y1;
    context.fillStyle = colour;
    context.fillRect(x0, top, size.width + 8, lineHeight);
    context.fillStyle = "#000";
    context.fillText(caption, x0 + 4, top + lineHeight - 5);
  }
}

async function follow(id) {
  const video = $("camera"), grab = document.createElement("canvas"), status = $("liveStatus");
  let frames = 0, since = performance.now();
  while (streamId === id) {
    const started = performance.now();
    const width = Math.min(640, video.videoWidth), height = Math.round(video.videoHeight * width / video.videoWidth);
    grab.width = width;
    grab.height = height;
    grab.getContext("2d").drawImage(video, 0, 0, width, height);
    const frame = await new Promise((done) => grab.toBlob(done, "image/jpeg", 0.85));
    try {
      const record = await post(`/api/label?stream=${id}`, frame, { "Content-Type": "image/jpeg" });
      if (streamId !== id) break;
      drawBoxes(record, width, height);
      showFaces($("liveFaces"), record.faces);
      frames += 1;
      const elapsed = (performance.now() - since) / 1000;
      say(status, `${record.faces.length} face${record.faces.length === 1 ? "" : "s"}; ` +
          `${(frames / elapsed).toFixed(1)} frames/s labelled, ${Math.round(performance.now() - started)} ms per frame`);
    } catch (error) {
      say(status, `Error: ${error.message}`, true);
      await sleep(1000);
    }
    await sleep(Math.max(0, 66 - (performance.now() - started)));  // at most 15 frames a second
  }
}

$("start").addEventListener("click", async () => {
  const status = $("liveStatus");
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
    say(status, "This browser gives pages the webcam only over https or on http://127.0.0.1 / localhost.", true);
    return;
  }
  try {
    camera = await navigator.mediaDevices.getUserMedia({ video: { width: { ideal: 640 }, height: { ideal: 480 } }, audio: false });
  } catch (error) {
    say(status, `Cannot open the webcam: ${error.message}`, true);
    return;
  }
  const video = $("camera");
  video.srcObject = camera;
  await video.play();
  $("start").disabled = true;
  $("stop").disabled = false;
  streamId = `${Date.now()}-${Math.random().toString(36).slice(2)}`;
  say(status, "Starting…");
  follow(streamId);
});

$("stop").addEventListener("click", () => {
  streamId = null;
  if (camera) camera.getTracks().forEach((track) => track.stop());
  camera = null;
  $("camera").srcObject = null;
  $("overlay").getContext("2d").clearRect(0, 0, $("overlay").width, $("overlay").height);
  $("start").disabled = false;
  $("stop").disabled = true;
  say($("liveStatus"), "Stopped.");
});
</script>
</body>
</html>
"""
