#!/usr/bin/env python3
"""Deterministic synthetic Kling task set for the mock server and the tests.

    make_tasks(now_ms, n=137, seed=1) -> [TASK, ...]   (newest first)

Each TASK is a normalized dict (the mock renders it into the three wire shapes):
    task_id          18-digit numeric string, unique
    product          videos/text2video | videos/image2video | videos/omni-video |
                     images/generations | images/kolors-virtual-try-on
    product_type     video | image | try_on
    status           submitted | processing | succeed | failed   (legacy vocabulary)
    status_message   "" unless failed; failures cycle through FAILURE_MESSAGES
                     (unicode, quotes, backslashes, newline, tab, emoji)
    created_at_ms    all distinct, spread over the last 60 days, all < now_ms
    updated_at_ms    >= created_at_ms, <= now_ms
    external_task_id present on about a third of the tasks
    model_name       present on about three quarters of the tasks
    outputs          only for succeed tasks:
                     {"type":"video","id","url","watermark_url","duration"}
                     {"type":"image","index","url","watermark_url"}
                     {"type":"audio","id","mp3_url","wav_url","duration"} (exactly one
                     text2video task has an audio output next to its video)

Guarantees for n >= 12: every product appears; the 4 newest tasks are
submitted, processing, submitted, processing (all within the last hour); no other
task is pending; every failure message
appears at least once; some tasks are older than 30 days, some newer.
Same (now_ms, n, seed) -> same list, byte for byte.

CLI:  python3 fixture.py --now-ms N [--n 137] [--seed 1] [--summary] > tasks.json
"""
import argparse
import json
import random
import sys
import tempfile
import time

DAY_MS = 86_400_000

PRODUCTS = [  # (product, product_type, weight)
    ("videos/text2video", "video", 40),
    ("videos/image2video", "video", 20),
    ("videos/omni-video", "video", 10),
    ("images/generations", "image", 20),
    ("images/kolors-virtual-try-on", "try_on", 10),
]

MODELS = {
    "videos/text2video": ["kling-v2-1-master", "kling-v2-5-turbo", "kling-v1-6"],
    "videos/image2video": ["kling-v2-1", "kling-v1-6"],
    "videos/omni-video": ["kling-video-o1"],
    "images/generations": ["kling-v2", "kling-v1-5"],
    "images/kolors-virtual-try-on": ["kolors-virtual-try-on-v1-5"],
}

FAILURE_MESSAGES = [
    "内容审核未通过 — “blocked”",
    'Prompt rejected: contains "forbidden" term',
    "Image path C:\\uploads\\img.png is not reachable\\",
    "Generation failed\nplease retry later",
    "timeout\twhile rendering frame 42",
    "Risk control triggered 🚫🎬",
    "Internal error",
    "image resolution too small: 240x240 < 300x300",
]

PENDING = ["submitted", "processing", "submitted", "processing"]  # the 4 newest

CDN = "https://cdn.mock-kling.invalid"


def _pick_products(rng, n):
    """Every product once, then weighted picks; shuffled."""
    picks = [p for p in PRODUCTS][: min(n, len(PRODUCTS))]
    weights = [w for _, _, w in PRODUCTS]
    picks += rng.choices(PRODUCTS, weights=weights, k=n - len(picks))
    rng.shuffle(picks)
    return picks


def _created_times(rng, now_ms, n):
    """n distinct creation times, newest first; the 4 newest within the last hour."""
    recent = min(n, len(PENDING))
    offsets = set(rng.sample(range(1_000, 3_600_000), recent))
    while len(offsets) < n:
        offsets.add(rng.randrange(3_600_000, 60 * DAY_MS))
    return sorted(now_ms - o for o in offsets)[::-1]


def _status_for(rng, i):
    if i < len(PENDING):
        return PENDING[i]
    return "failed" if rng.random() < 0.16 else "succeed"


def _signed(rng, path, now_ms):
    sig = "%016x" % rng.getrandbits(64)
    return f"{CDN}/{path}?x-expires={now_ms // 1000 + 30 * 86400}&x-signature={sig}"


def _outputs(rng, task_id, product_type, now_ms):
    if product_type == "video":
        duration = "5.1" if rng.random() < 0.8 else "10.1"
        return [{
            "type": "video",
            "id": f"{task_id}-v0",
            "url": _signed(rng, f"videos/{task_id}.mp4", now_ms),
            "watermark_url": _signed(rng, f"videos/{task_id}_wm.mp4", now_ms),
            "duration": duration,
        }]
    count = 1 if product_type == "try_on" else rng.randint(1, 4)
    return [{
        "type": "image",
        "index": k,
        "url": _signed(rng, f"images/{task_id}_{k}.png", now_ms),
        "watermark_url": _signed(rng, f"images/{task_id}_{k}_wm.png", now_ms),
    } for k in range(count)]


def _audio_output(rng, task_id, now_ms):
    return {
        "type": "audio",
        "id": f"{task_id}-a0",
        "mp3_url": _signed(rng, f"audio/{task_id}.mp3", now_ms),
        "wav_url": _signed(rng, f"audio/{task_id}.wav", now_ms),
        "duration": "5.1",
    }


def _task_ids(rng, n):
    ids, seen = [], set()
    while len(ids) < n:
        tid = str(rng.randrange(10**17, 10**18))
        if tid not in seen:
            seen.add(tid)
            ids.append(tid)
    return ids


def make_tasks(now_ms, n=137, seed=1):
    """The synthetic task set, newest first (see the module docstring)."""
    now_ms = int(now_ms)
    rng = random.Random(seed)
    products = _pick_products(rng, n)
    created = _created_times(rng, now_ms, n)
    ids = _task_ids(rng, n)
    tasks, failures, audio_done = [], 0, False
    for i in range(n):
        product, ptype, _ = products[i]
        status = _status_for(rng, i)
        t = {
            "task_id": ids[i],
            "product": product,
            "product_type": ptype,
            "status": status,
            "status_message": "",
            "created_at_ms": created[i],
        }
        if status == "submitted":
            t["updated_at_ms"] = created[i]
        else:
            t["updated_at_ms"] = min(now_ms, created[i] + rng.randint(1_000, 600_000))
        if status == "failed":
            t["status_message"] = FAILURE_MESSAGES[failures % len(FAILURE_MESSAGES)]
            failures += 1
        if rng.random() < 0.33:
            t["external_task_id"] = f"ext-{seed}-{i:04d}"
        if rng.random() < 0.75:
            t["model_name"] = rng.choice(MODELS[product])
        t["outputs"] = []
        if status == "succeed":
            t["outputs"] = _outputs(rng, ids[i], ptype, now_ms)
            if product == "videos/text2video" and not audio_done:
                t["outputs"].append(_audio_output(rng, ids[i], now_ms))
                audio_done = True
        tasks.append(t)
    return tasks


def save(tasks):
    """Write tasks to a new temporary JSON file (the mock's --fixture); returns its path."""
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(tasks, f)
    return f.name


def summary(tasks, now_ms):
    """Counts per product, per status, and inside the default 30-day window."""
    out = {"total": len(tasks), "products": {}, "statuses": {},
           "last_30_days": sum(1 for t in tasks if t["created_at_ms"] >= now_ms - 30 * DAY_MS)}
    for t in tasks:
        out["products"][t["product"]] = out["products"].get(t["product"], 0) + 1
        out["statuses"][t["status"]] = out["statuses"].get(t["status"], 0) + 1
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description="Write the synthetic Kling task set as JSON.")
    ap.add_argument("--now-ms", type=int, default=int(time.time() * 1000))
    ap.add_argument("--n", type=int, default=137)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--summary", action="store_true", help="print counts instead of the tasks")
    args = ap.parse_args(argv)
    tasks = make_tasks(args.now_ms, args.n, args.seed)
    doc = summary(tasks, args.now_ms) if args.summary else tasks
    text = json.dumps(doc, ensure_ascii=False, indent=1) + "\n"
    sys.stdout.buffer.write(text.encode("utf-8"))


if __name__ == "__main__":
    main()
