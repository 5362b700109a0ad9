"""PyTorch peer for bench/train.ts: same MLP (ReLU), Adam, MSE, batch, random data; --threads (default 1).

Prints one JSON line: {"samples_per_sec", "samples_per_cpu_sec", "steps", "seconds", "cpu_seconds", "torch"}.
Usage: /usr/bin/python3 bench/train_torch.py --layers 1500,512,512,256,150 --batch 256 --rows 2560 --seconds 4
"""
import argparse
import json
import time

import torch


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--layers", default="1500,512,512,256,150")
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--rows", type=int, default=2560)
    ap.add_argument("--seconds", type=float, default=4.0)
    ap.add_argument("--warmup-steps", type=int, default=5)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    widths = [int(w) for w in args.layers.split(",")]
    mods = []
    for i in range(len(widths) - 1):
        mods.append(torch.nn.Linear(widths[i], widths[i + 1]))
        if i < len(widths) - 2:
            mods.append(torch.nn.ReLU())
    net = torch.nn.Sequential(*mods)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    loss_fn = torch.nn.MSELoss()
    X = torch.rand(args.rows, widths[0]) * 2 - 1
    Y = torch.rand(args.rows, widths[-1])

    def run(steps_wanted=None, seconds=None):
        steps = 0
        c0 = time.process_time()
        t0 = time.perf_counter()
        while True:
            # reshuffle each epoch and gather batches, as the tfjs loop does
            perm = torch.randperm(args.rows)
            for s in range(0, args.rows, args.batch):
                idx = perm[s : s + args.batch]
                xb, yb = X[idx], Y[idx]
                opt.zero_grad(set_to_none=True)
                loss = loss_fn(net(xb), yb)
                loss.backward()
                opt.step()
                steps += 1
                if steps_wanted is not None and steps >= steps_wanted:
                    return steps, time.perf_counter() - t0, time.process_time() - c0
                if seconds is not None and time.perf_counter() - t0 >= seconds:
                    return steps, time.perf_counter() - t0, time.process_time() - c0

    run(steps_wanted=args.warmup_steps)
    steps, secs, cpu = run(seconds=args.seconds)
    print(json.dumps({
        "samples_per_sec": steps * args.batch / secs,
        "samples_per_cpu_sec": steps * args.batch / cpu,
        "steps": steps,
        "seconds": secs,
        "cpu_seconds": cpu,
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
    }))


if __name__ == "__main__":
    main()
