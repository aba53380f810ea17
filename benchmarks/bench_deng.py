"""Deng's data homotopy on all 60,000 MNIST training images, against honest baselines.

For each network (rows) and the same pretrained p0, three routes to a 100% training
positive rate (PR):

  (a) the data homotopy, tracked by pathtrack (margin objective, L-BFGS corrector);
  (b) the same corrector applied directly to the real data (no homotopy);
  (c) mini-batch Adam continued from p0 with the gradient budget of (a), counted in
      full-batch gradient equivalents (one epoch = one full gradient).

PR is always recomputed from scratch on the original data (fresh loader, network and
loss), never taken from the tracker. Test accuracy is reported before and after.

Usage::

    python benchmarks/bench_deng.py                       # the default rows
    python benchmarks/bench_deng.py --rows 100,40 --subset 10000
    python benchmarks/bench_deng.py --smallest 20,15,10   # smallest n reaching 100% PR
    python benchmarks/bench_deng.py --smallest 10 --routes b,a --time-cap 900 --no-adam
    python benchmarks/bench_deng.py --markdown docs/deng_results.md
    python benchmarks/bench_deng.py --rows 20 --homotopies data,margin,temperature,width --grad-cap 1049
    python benchmarks/bench_deng.py --edge --time-cap 600     # 15 ReLU, 15, 12, 10: every route
    python benchmarks/bench_deng.py --smallest 15 --routes b --no-adam --chain lbfgs:100000@150,lm:20 \
        -o min_active_set=150 -o krylov_maxiter=20 --log curve.txt --save-dir sv

``--homotopies`` runs route (a) once per λ-family of ``deng-mnist`` (``--set homotopy=``):
``data`` (Deng's), ``margin``, ``temperature``, ``width``. ``--grad-cap`` stops every route at
that many full gradients, for comparisons at equal budgets.

``--chain`` runs route (b) as correctors in turn (``METHOD[:ITERS][@WRONG]``: hand over to the
next once at most WRONG images are wrong; ``lp`` is the exact output-layer stage and ``milp``
the same with a MILP for the fewest wrong images, e.g. ``--chain lbfgs:100000@40,milp``),
``--work-cap`` stops it after that many gradients + Hessian/Gauss–Newton-vector products, and
``--log`` appends its curve (fewest wrong every 10 iterations, with the counters, wall and CPU
time) to a file, so a cut run still yields one.
"""

from __future__ import annotations

import argparse
import math
import os
import re
import sys
import time

import pathtrack

pathtrack.configure_threads()  # before numpy loads (see pathtrack.threads.THREAD_ENV)

import numpy as np  # noqa: E402

ROWS = {"100": dict(hidden=100, activation="switch", temperature=1.0),
        "60": dict(hidden=60, activation="switch", temperature=1.0),
        "40": dict(hidden=40, activation="switch", temperature=1.0),
        "20": dict(hidden=20, activation="switch", temperature=1.0),
        "100relu": dict(hidden=100, activation="relu", temperature=100.0),
        "15relu": dict(hidden=15, activation="relu", temperature=100.0)}


def _work(system):
    """Gradient equivalents spent: gradients + Hessian-vector + Gauss–Newton-vector products."""
    return system.n_grad_evals + system.n_jvp_evals + system.n_gnvp_evals


def parse_chain(text, default_method, budget):
    """``--chain`` text ``METHOD[:ITERS][@WRONG],...`` as a list of ``(method, iters, wrong)`` stages.

    A stage runs ``METHOD`` for at most ``ITERS`` iterations (default ``budget``) and hands over
    to the next once at most ``WRONG`` images are misclassified (default 0: to the end).
    An empty text is one stage of ``default_method``.
    """
    stages = []
    for part in [s.strip() for s in (text or default_method).split(",") if s.strip()]:
        m = re.fullmatch(r"([a-z-]+)(?::(\d+))?(?:@(\d+))?", part)
        if m is None:
            raise ValueError(f"bad --chain stage {part!r}; expected METHOD[:ITERS][@WRONG], e.g. lbfgs:20000@60")
        stages.append((m.group(1), int(m.group(2) or budget), int(m.group(3) or 0)))
    return stages


def _direct(pb, options, budget_iters, time_cap=math.inf, x0=None, chain="", work_cap=math.inf, log=None,
            snapshot="", milp_time=900.0):
    """(b): the homotopy's corrector at λ = 1 from p0, stopping at 100% PR, the budget or a cap.

    The corrector itself (pathtrack's MinimizationCorrector, same options): its acceptance
    hook, called once per iteration, also stops it at the wall-time cap or after ``work_cap``
    gradient equivalents (see :func:`_work`) and logs the fewest misclassified images
    reached (checked every 10 iterations, a forward pass each; with ``log``, a line
    ``iters grads hvps gnvps wall cpu wrong stage`` there each time). PR is verified independently
    afterwards, so a stop at a cap cannot pass for success.

    ``chain`` (see :func:`parse_chain`) runs several correctors one after the other, each
    from where the last stopped. A stage ``lp`` is the exact output-layer stage
    (``DengMNIST.exact_output_layer``): the output layer re-solved by LP, kept when it has no
    more wrong images; ``milp`` goes on, when the LP proves the features inseparable, to the
    MILP that minimises the count (``milp_time`` seconds at most for either). With
    ``min_active_set`` set, the active-set stage is on: the problem's violation count and
    linearisation are hooked in and never give up early.

    ``x0`` restarts from other parameters (a capped run's saved end point); L-BFGS then
    starts with an empty memory. ``snapshot`` (a ``.npy`` path) keeps the latest checked
    iterate there, so that a killed run can be continued.

    Returns
    -------
    p, n_grad_evals, wall, fewest_wrong, counts (dict of grads, hvps, gnvps, cpu, iters)
    """
    from pathtrack.corrector import MinimizationCorrector
    from pathtrack.problem import RealSystem

    system = RealSystem(pb, pb.p0.shape[0])
    x = pb.p0.astype(np.float64) if x0 is None else np.asarray(x0, dtype=np.float64)
    fewest = [int(pb.homotopy.stats(x, 1.0)["n_wrong"])]
    n_calls = [0]
    t0, c0 = time.perf_counter(), time.process_time()
    stopped, stage = [False], [0]

    def record(wrong, x=None):
        fewest[0] = min(fewest[0], wrong)
        if snapshot and x is not None:
            np.save(snapshot, x)
        if log is not None:
            log.write(f"{n_calls[0]} {system.n_grad_evals} {system.n_jvp_evals} {system.n_gnvp_evals} "
                      f"{time.perf_counter() - t0:.1f} {time.process_time() - c0:.1f} {wrong} {stage[0]}\n")
            log.flush()

    if log is not None:
        log.write("# iters grads hvps gnvps wall_s cpu_s wrong stage\n")
        record(fewest[0])
    lp = {"n": 0, "wall": 0.0, "status": ""}
    for stage[0], (method, iters, hand_over) in enumerate(parse_chain(chain, options.corrector, budget_iters)):
        if method in ("lp", "milp"):  # the exact output-layer stage: hidden layer fixed, output layer by (MI)LP
            x_lp, status, info = pb.exact_output_layer(x, count=method == "milp",
                                                       max_time=max(1.0, min(milp_time, time_cap)))
            lp["n"] += 1
            lp["wall"] += info["wall"]
            lp["status"] = status
            wrong = int(pb.homotopy.stats(x_lp, 1.0)["n_wrong"])
            if log is not None:
                log.write(f"# {method}: {status}, {info['n_wrong']} wrong in float64, {wrong} in float32, "
                          f"{info['n_rounds']} LPs, {info['n_pairs']} pairs, {info.get('n_milp', 0)} MILPs "
                          f"(bound {info.get('milp_bound', float('nan')):.4g}), {info['wall']:.1f} s\n")
            before = int(pb.homotopy.stats(x, 1.0)["n_wrong"])
            if wrong <= before:
                x = x_lp  # never a worse point: the hinge LP minimises slacks, not the count
            record(min(wrong, before), x)
            if fewest[0] == 0:
                break
            continue
        corr = MinimizationCorrector(options.replace(min_maxiter=iters, stop_on_accept=True,
                                                     min_exit_ratio=math.inf), method=method)
        if options.min_active_set:
            corr.count, corr.violations = pb.n_violations, pb.violations

        def accept(x, lam, hand_over=hand_over):
            if pb.accept(x, lam):
                record(0)
                return True
            n_calls[0] += 1
            if n_calls[0] % 10 == 0:
                record(int(pb.homotopy.stats(x, lam)["n_wrong"]), x)
                if fewest[0] <= hand_over:
                    return True  # the next stage of the chain takes over
            stopped[0] = time.perf_counter() - t0 > time_cap or _work(system) >= work_cap
            return stopped[0]  # a cap ends the run like an acceptance

        corr.accept = accept
        y0 = np.append(x, 1.0)
        e = np.zeros_like(y0)
        e[-1] = 1.0
        x = corr.correct(system, y0, e, 1.0).y[:-1]
        if stopped[0] or fewest[0] == 0:
            break
    wall = time.perf_counter() - t0
    record(int(pb.homotopy.stats(x, 1.0)["n_wrong"]))
    counts = {"grads": system.n_grad_evals, "hvps": system.n_jvp_evals, "gnvps": system.n_gnvp_evals,
              "cpu": time.process_time() - c0, "iters": n_calls[0], "lp": lp}
    return x, system.n_grad_evals, wall, fewest[0], counts


class _Deadline:
    """Tracker observer that asks for a stop (status ``interrupted``) after ``cap`` seconds or ``max_grads`` gradients."""

    def __init__(self, cap, max_grads=math.inf):
        self.cap, self.max_grads, self.t0 = cap, max_grads, time.perf_counter()

    def on_start(self, tracker, record):
        self.t0 = time.perf_counter()

    def on_step(self, tracker, record):
        if time.perf_counter() - self.t0 > self.cap or tracker.system.n_grad_evals >= self.max_grads:
            tracker.request_stop()

    def on_event(self, tracker, point):
        pass

    def on_finish(self, tracker):
        pass


def _adam(pb, n_evals, max_epochs):
    """(c): mini-batch Adam from p0 for ceil(n_evals) epochs (at most ``max_epochs``); best-PR epoch too.

    The learning rate 1e-4 is scaled like the pretraining's (``pb.pretrain_scale``, √T for the
    ReLU row), so that Adam takes the same relative steps at every temperature.
    """
    from pathtrack.nn.train import train

    epochs = max(1, min(max_epochs, math.ceil(n_evals)))
    t0 = time.perf_counter()
    res = train(pb.net, pb.X, pb.y, optimizer="adam", lr=1e-4 * pb.pretrain_scale, epochs=epochs,
                batch_size=128, p0=pb.p0, seed=1, progress=False)
    return res.p, epochs, time.perf_counter() - t0, float(np.max(res.pr))


def _homotopy(pb, options, args):
    """(a): the tracked homotopy, stopped after ``--time-cap`` seconds or ``--grad-cap`` gradients.

    The gradient cap is checked after each step attempt, so a run may overshoot it by one
    corrector budget; the table shows the count actually spent.
    """
    from pathtrack import track

    t0, c0 = time.perf_counter(), time.process_time()
    observers = []
    if math.isfinite(args.time_cap) or args.grad_cap:
        observers = [_Deadline(args.time_cap, args.grad_cap or math.inf)]
    r = track(pb, options=options, observers=observers, progress=args.progress)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    pa = r.p_end
    pr = pb.verify(pa)
    return {"status": r.status.name, "lam_end": r.lam_end, "pr": pr, "wall": wall, "cpu": cpu,
            "accepted": r.n_accepted, "rejected": r.n_rejected, "grad_evals": r.counters["n_grad_evals"],
            "hvps": r.counters.get("n_jvp_evals", 0), "wasted": r.counters.get("n_wasted_grad_evals", 0),
            "test": pb.test_accuracy(pa, r.lam_end),
            "real_wrong": int(round((1.0 - pr) * pb.y.shape[0])), "p": pa,
            # wrong images of the λ-problem at the last accepted point (D_λ, or the fading wide net)
            "path_wrong": int(r.metrics["n_wrong"][-1])}


def _save(args, row, route, p):
    """Keep a route's end point (``--save-dir``), e.g. to continue a capped run with ``--direct-from``."""
    if args.save_dir:
        os.makedirs(args.save_dir, exist_ok=True)
        np.save(os.path.join(args.save_dir, f"{row}-{route}.npy"), p)


def _problem(cfg, args, homotopy=None):
    """The row's problem; ``homotopy`` overrides ``--set homotopy=`` (default ``data``), whose family route (b) uses."""
    from pathtrack_problems.deng import DengMNIST

    params = {**cfg, "homotopy": "data", **dict(kv.split("=", 1) for kv in args.set)}
    if homotopy is not None:
        params["homotopy"] = homotopy
    return DengMNIST(**params, subset=args.subset, seed=args.seed, pretrain_epochs=args.pretrain_epochs,
                     data_dir=args.data_dir)


def run_row(name, cfg, args):
    t0 = time.perf_counter()
    pb = _problem(cfg, args)
    setup = time.perf_counter() - t0
    test0 = pb.test.accuracy(pb.p0)
    out = {"row": name, "n": cfg["hidden"], "activation": cfg["activation"], "pr0": pb.verify(pb.p0),
           "n_images": int(pb.y.shape[0]),
           "n_erred": pb.n_wrong0, "test0": test0, "setup_s": setup}
    print(f"[{name}] p0: PR {out['pr0']:.4%} ({out['n_erred']} wrong), test {test0:.4f}, "
          f"setup {setup:.0f} s", flush=True)
    from pathtrack.driver import build_options
    options = build_options(pb, dict(kv.split("=", 1) for kv in args.option))
    for route in args.routes.split(","):
        if route == "a":
            for family in args.homotopies.split(","):
                key = "a" if family == "data" else f"a-{family}"
                pf = pb if family == "data" else _problem(cfg, args, family)
                opts = options if family == "data" else build_options(pf, dict(kv.split("=", 1) for kv in args.option))
                out[key] = _homotopy(pf, opts, args)
                _save(args, name, key, out[key].pop("p"))
                if family == "width":
                    out[key]["test0"] = pf.test_accuracy(pf.p0, 0.0)
                print(f"[{name}] ({key}) homotopy: {out[key]}", flush=True)
        elif route == "b":
            # a generous budget: 10x the homotopy's when it ran first, at least 1000, at most --max-direct
            n_a = out["a"]["grad_evals"] if "a" in out else args.max_direct
            budget = args.grad_cap or min(args.max_direct, max(1000, 10 * n_a))
            x0 = np.load(args.direct_from) if args.direct_from else None
            if args.save_dir:
                os.makedirs(args.save_dir, exist_ok=True)  # the partial snapshots go there from the start
            log = open(args.log, "a") if args.log else None
            try:
                pb_, n_b, wall_b, fewest, counts = _direct(pb, options, budget, args.time_cap, x0, args.chain,
                                                           args.work_cap or math.inf, log,
                                                           os.path.join(args.save_dir, f"{name}-b.partial.npy")
                                                           if args.save_dir else "", args.milp_time)
            finally:
                if log is not None:
                    log.close()
            _save(args, name, "b", pb_)
            pr = pb.verify(pb_)
            out["b"] = {"pr": pr, "wall": wall_b, "grad_evals": n_b, "hvps": counts["hvps"] + counts["gnvps"],
                        "cpu": counts["cpu"], "test": pb.test_accuracy(pb_),
                        "fewest_wrong": fewest, "real_wrong": int(round((1.0 - pr) * pb.y.shape[0]))}
            if counts["lp"]["n"]:
                out["b"].update(n_lp_stages=counts["lp"]["n"], lp_wall=counts["lp"]["wall"],
                                lp_status=counts["lp"]["status"])
            print(f"[{name}] (b) direct: {out['b']}", flush=True)
        elif route:
            sys.exit(f"unknown route {route!r}; known: a, b")
    # (c) Adam with the homotopy's budget
    if not args.no_adam and "a" in out:
        pc, epochs, wall_c, best = _adam(pb, out["a"]["grad_evals"], args.max_adam_epochs)
        out["c"] = {"pr": pb.verify(pc), "best_epoch_pr": best, "wall": wall_c, "grad_evals": epochs,
                    "test": pb.test_accuracy(pc)}
        print(f"[{name}] (c) Adam: {out['c']}", flush=True)
    return out


def _fmt(route, d):
    if d is None:
        return "—"
    if route == "a":
        stop = "" if d["lam_end"] == 1.0 else f" (stopped at λ = {d['lam_end']:.4g}, {d['status']})"
        return (f"PR {d['pr']:.4%}{stop}, {d['wall']:.0f} s, {d['accepted']}/{d['rejected']} steps, "
                f"{d['grad_evals']} grads, test {d['test']:.4f}")
    best = "" if d.get("fewest_wrong", 0) == 0 else f" (fewest wrong {d['fewest_wrong']})"
    return f"PR {d['pr']:.4%}{best}, {d['wall']:.0f} s, {d['grad_evals']} grads, test {d['test']:.4f}"


def table(results):
    lines = ["| row | p0 PR (wrong) | p0 test | (a) homotopy | (b) direct, same corrector | (c) Adam, same budget |",
             "|---|---|---|---|---|---|"]
    for o in results:
        lines.append(f"| {o['n']} {o['activation']} | {o['pr0']:.4%} ({o['n_erred']}) | {o['test0']:.4f} | "
                     f"{_fmt('a', o.get('a'))} | {_fmt('b', o.get('b'))} | {_fmt('c', o.get('c'))} |")
    return "\n".join(lines)


_ROUTE_NAMES = {"b": "(b) direct", "a": "(a) data homotopy", "a-margin": "(a) margin κ", "a-focus": "(a) focus",
                "a-temperature": "(a) temperature", "a-width": "(a) width", "c": "(c) Adam"}


def edge_table(results):
    """One line per width and route: verified PR and wrong images, cost, test accuracy."""
    lines = ["| n | route | verified PR (wrong) | λ reached, status (wrong there) | grads | HVPs | wall | "
             "fewest wrong seen | test (p0 → end) |", "|---|---|---|---|---|---|---|---|---|"]
    for o in results:
        for key, label in _ROUTE_NAMES.items():
            d = o.get(key)
            if d is None:
                continue
            lam = "1, success" if key in ("b", "c") and d["pr"] == 1.0 else (
                "—" if key in ("b", "c") else f"{d['lam_end']:.4g}, {d['status']} ({d['path_wrong']})")
            wrong = d.get("real_wrong", round((1.0 - d["pr"]) * o["n_images"]))
            fewest = d.get("fewest_wrong", "—")
            width = o["n"] if o["activation"] == "switch" else f"{o['n']} {o['activation']}"
            lines.append(f"| {width} | {label} | {d['pr']:.4%} ({wrong}) | {lam} | {d['grad_evals']} | "
                         f"{d.get('hvps', 0)} | {d['wall']:.0f} s | {fewest} | "
                         f"{d.get('test0', o['test0']):.4f} → {d['test']:.4f} |")
    return "\n".join(lines)


def _edge_defaults(args):
    """``--edge``: the widths below n = 20 (switch) and ReLU at T = 100 for n = 15, every route, no Adam."""
    args.smallest = args.smallest or "15,12,10"
    args.rows = args.rows if args.rows is not None else "15relu"
    args.routes, args.no_adam = "b,a", True
    if args.homotopies == "data":
        args.homotopies = "width,margin,temperature,data"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", default=None,
                    help=f"comma list of {', '.join(ROWS)}; default: all, or none with --smallest")
    ap.add_argument("--smallest", default="", help="comma list of hidden widths to scan for 100%% PR")
    ap.add_argument("--subset", type=int, default=0, help="0: all 60,000 images")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--pretrain-epochs", type=int, default=15)
    ap.add_argument("--data-dir", default="")
    ap.add_argument("--no-adam", action="store_true", help="skip column (c)")
    ap.add_argument("--max-direct", type=int, default=5000, help="iteration cap of route (b)")
    ap.add_argument("--max-adam-epochs", type=int, default=200, help="epoch cap of route (c)")
    ap.add_argument("--option", "-o", action="append", default=[], metavar="KEY=VALUE",
                    help="tracker option for route (a), e.g. -o min_maxiter=400")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                    help="problem parameter of deng-mnist, e.g. --set kappa=1")
    ap.add_argument("--routes", default="a,b", help="routes (a) and (b) in the order to run them, e.g. b,a")
    ap.add_argument("--time-cap", type=float, default=math.inf,
                    help="wall-time cap in seconds of route (a) and of route (b), each")
    ap.add_argument("--progress", action="store_true", help="progress bar for the homotopy")
    ap.add_argument("--markdown", default="", help="also write the table to this file")
    ap.add_argument("--save-dir", default="", help="save each route's end point here as ROW-ROUTE.npy")
    ap.add_argument("--direct-from", default="", help="start route (b) from this .npy instead of p0")
    ap.add_argument("--homotopies", default="data",
                    help="λ-families run as route (a), comma list of data, margin, temperature, width")
    ap.add_argument("--grad-cap", type=int, default=0, help="stop every route after this many gradients (0: none)")
    ap.add_argument("--chain", default="",
                    help="route (b)'s correctors in turn, METHOD[:ITERS][@WRONG],..., e.g. lbfgs:20000@60,lm:200 "
                         "(hand over at WRONG misclassified images; default: -o corrector alone)")
    ap.add_argument("--work-cap", type=int, default=0,
                    help="stop route (b) after this many gradients + Hessian/Gauss-Newton products (0: none)")
    ap.add_argument("--milp-time", type=float, default=900.0,
                    help="wall-time limit in seconds of each lp/milp stage of --chain")
    ap.add_argument("--log", default="", help="append route (b)'s curve (fewest wrong every 10 iterations) here")
    ap.add_argument("--edge", action="store_true",
                    help="the edge scan: --rows 15relu --smallest 15,12,10, routes b,a, every homotopy, "
                         "no Adam, edge table")
    args = ap.parse_args(argv)
    try:
        stages = parse_chain(args.chain, "lbfgs", 1)
    except ValueError as exc:
        sys.exit(str(exc))
    if any(m in ("lp", "milp") for m, _, _ in stages) and "homotopy=width" in args.set:
        sys.exit("--chain lp/milp re-solves the target network's output layer; not with --set homotopy=width")
    if args.edge:
        _edge_defaults(args)
    os.environ.setdefault("PATHTRACK_DATA", os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data"))
    results = []
    if args.rows is None:
        args.rows = "" if args.smallest else ",".join(r for r in ROWS if r != "15relu")  # 15relu: --edge
    rows = [r for r in args.rows.split(",") if r]
    for name in rows:
        if name not in ROWS:
            sys.exit(f"unknown row {name!r}; known: {', '.join(ROWS)}")
        results.append(run_row(name, ROWS[name], args))
    for n in [int(v) for v in args.smallest.split(",") if v]:
        results.append(run_row(str(n), dict(hidden=n, activation="switch", temperature=1.0), args))
    text = edge_table(results) if (args.edge or args.homotopies != "data") else table(results)
    print()
    print(text)
    reached = [o["n"] for o in results if any(d.get("pr") == 1.0 for k, d in o.items()
                                              if k in _ROUTE_NAMES and k != "c")]
    if reached:
        print(f"\nsmallest n reaching a verified 100% PR (homotopy or direct): {min(reached)}")
    if args.markdown:
        with open(args.markdown, "w") as fh:
            fh.write(text + "\n")
    return results


if __name__ == "__main__":
    main()
