#!/usr/bin/env python3
"""Training throughput of the PyTorch reference (theislab/inVAE) on an .h5ad, for `npm run bench:perf`.

Builds the reference's FinVAE or NFinVAE on FILE with the architecture of invae's bench:perf run
(latent 20 invariant + 5 spurious, hidden 128, 2 layers, BatchNorm, dropout 0.1, negative binomial
decoder, batch 256, Adam lr 1e-3 and weight decay 1e-4: invae's defaults), trains it with the
reference's own `train` loop and times optimizer steps: the first --warmup steps are not timed, then
--steps steps are (wall clock from the end of the last warm-up step to the end of the last timed
step, so each timed step's data loading, forward, backward and update are counted; also the process's
CPU time over the same steps, every thread, as invae's cpuMsPerStep). Prints one JSON
object on stdout; the reference's own messages go to stderr.

    python3 scripts/bench-reference.py --reference DIR --h5ad FILE --model finvae|nfinvae
        --warmup W --steps S --threads T [--inv-keys cell_type,disease] [--spur-keys batch | --batch-key batch]
        [--batch-size 256] [--seed 0]

DIR is a checkout of theislab/inVAE (DIR/src/inVAE) or a bare git repository of it (its HEAD's
src/ is extracted to a temporary folder, removed at exit). Nothing of the reference is kept.
The reference imports scanpy and torch.utils.tensorboard without using them for training; where
they are not installed, empty stand-ins are registered (listed under "stubbedModules" in the JSON).
Errors (missing DIR, torch, anndata, bad file or keys) end with exit status 2 and one message line.
"""
import argparse
import contextlib
import json
import math
import os
import subprocess
import sys
import tarfile
import tempfile
import time
import types

EXIT_USAGE = 2


class BenchError(Exception):
    """A problem with the inputs or the environment: printed as one line, exit status 2."""


class _Done(Exception):
    """Raised from the timed optimizer step after the last timed step: ends the reference's train()."""


def parse_args(argv):
    p = argparse.ArgumentParser(prog='bench-reference.py', description='Times the reference inVAE (PyTorch) training steps.')
    p.add_argument('--reference', required=True, help='checkout or bare git repository of theislab/inVAE')
    p.add_argument('--h5ad', required=True, help='counts (X) and obs covariates')
    p.add_argument('--model', required=True, choices=['finvae', 'nfinvae'])
    p.add_argument('--warmup', type=int, default=30)
    p.add_argument('--steps', type=int, default=60)
    p.add_argument('--threads', type=int, default=1)
    p.add_argument('--inv-keys', default='cell_type,disease', help='comma-separated categorical obs columns of the invariant prior')
    p.add_argument('--spur-keys', default=None, help='comma-separated categorical obs columns of the spurious prior (default: --batch-key)')
    p.add_argument('--batch-key', default='batch', help='the spurious covariate when --spur-keys is not given')
    p.add_argument('--batch-size', type=int, default=256)
    p.add_argument('--seed', type=int, default=0)
    a = p.parse_args(argv)
    for name in ('warmup', 'steps', 'threads', 'batch_size'):
        v = getattr(a, name)
        if v < (0 if name == 'warmup' else 1):
            raise BenchError(f'--{name.replace("_", "-")} must be an integer >= {0 if name == "warmup" else 1}, got {v}')
    a.inv_keys = [k for k in a.inv_keys.split(',') if k]
    a.spur_keys = [k for k in (a.spur_keys if a.spur_keys is not None else a.batch_key).split(',') if k]
    return a


def git(reference, *args):
    r = subprocess.run(['git', '--git-dir' if is_bare(reference) else '-C', reference, *args], capture_output=True)
    return r.stdout if r.returncode == 0 else None


def is_bare(reference):
    return os.path.isfile(os.path.join(reference, 'HEAD')) and os.path.isdir(os.path.join(reference, 'objects'))


def reference_sources(reference, tmp):
    """The folder to put on sys.path (it holds inVAE/), and the reference's commit (None if not a git repository)."""
    if not os.path.isdir(reference):
        raise BenchError(f'reference folder {reference} not found (pass a checkout of github.com/theislab/inVAE with --reference)')
    commit = None
    try:  # a bare repository, or a checkout's own .git (not a repository the folder merely sits in)
        out = git(reference, 'rev-parse', 'HEAD') if is_bare(reference) or os.path.exists(os.path.join(reference, '.git')) else None
        commit = out.decode().strip() if out else None
    except FileNotFoundError:  # no git: a plain copy still works
        pass
    src = os.path.join(reference, 'src')
    if os.path.isdir(os.path.join(src, 'inVAE')):
        return src, commit
    if commit and is_bare(reference):
        archive = git(reference, 'archive', '--format=tar', 'HEAD', 'src/inVAE')
        if archive:
            path = os.path.join(tmp, 'archive.tar')
            with open(path, 'wb') as f:
                f.write(archive)
            with tarfile.open(path) as t:
                t.extractall(tmp)
            return os.path.join(tmp, 'src'), commit
    raise BenchError(f'{reference} holds no src/inVAE (expected a checkout or bare git repository of github.com/theislab/inVAE)')


def stub_unused_modules():
    """Registers empty stand-ins for modules the reference imports but does not train with, when missing."""
    stubbed = []
    try:
        import scanpy  # noqa: F401
    except ImportError:
        sys.modules['scanpy'] = types.ModuleType('scanpy')
        stubbed.append('scanpy')
    try:
        import torch.utils.tensorboard  # noqa: F401
    except ImportError:
        m = types.ModuleType('torch.utils.tensorboard')

        class SummaryWriter:  # only used with train(log_dir=...), which this script never passes
            def __init__(self, *a, **k):
                raise RuntimeError('tensorboard is not installed')

        m.SummaryWriter = SummaryWriter
        sys.modules['torch.utils.tensorboard'] = m
        stubbed.append('torch.utils.tensorboard')
    return stubbed


def load_h5ad(anndata, path, keys):
    if not os.path.isfile(path):
        raise BenchError(f'{path} not found (pass the .h5ad to train on with --h5ad)')
    try:
        adata = anndata.read_h5ad(path)
    except Exception as e:  # anndata/h5py raise many types for a file that is no .h5ad
        raise BenchError(f'{path} is not a readable .h5ad: {type(e).__name__}: {str(e).splitlines()[0] if str(e) else ""}')
    if adata.X is None:
        raise BenchError(f'{path} has no X (the counts to train on)')
    missing = [k for k in keys if k not in adata.obs.columns]
    if missing:
        raise BenchError(f'{path}: obs has no column {", ".join(missing)} (obs columns: {", ".join(map(str, adata.obs.columns))}); set --inv-keys/--spur-keys')
    return adata


def run(a):
    # What can be checked without torch first: the folder and the file.
    if not os.path.isdir(a.reference):
        raise BenchError(f'reference folder {a.reference} not found (pass a checkout of github.com/theislab/inVAE with --reference)')
    if not os.path.isfile(a.h5ad):
        raise BenchError(f'{a.h5ad} not found (pass the .h5ad to train on with --h5ad)')
    # Thread pools are sized when torch loads: set them before the import.
    for var in ('OMP_NUM_THREADS', 'OPENBLAS_NUM_THREADS', 'MKL_NUM_THREADS'):
        os.environ[var] = str(a.threads)
    try:
        import torch
    except ImportError:
        raise BenchError(f'{sys.executable} cannot import torch (apt-get install python3-torch, or set INVAE_REFERENCE_PYTHON to a python with torch)')
    try:
        import anndata
        import numpy as np
    except ImportError as e:
        raise BenchError(f'{sys.executable} cannot import {e.name} (apt-get install python3-anndata)')

    with tempfile.TemporaryDirectory(prefix='invae-bench-reference-') as tmp:
        src, commit = reference_sources(os.path.abspath(a.reference), tmp)
        stubbed = stub_unused_modules()
        sys.path.insert(0, src)
        adata = load_h5ad(anndata, a.h5ad, a.inv_keys + a.spur_keys)
        torch.set_num_threads(a.threads)
        torch.manual_seed(a.seed)
        np.random.seed(a.seed)

        with contextlib.redirect_stdout(sys.stderr):
            try:
                from inVAE import FinVAE, NFinVAE
            except ImportError as e:
                raise BenchError(f'the reference in {a.reference} does not import: {e}')
            cls = FinVAE if a.model == 'finvae' else NFinVAE
            config = dict(
                layer=None,
                inv_covar_keys={'cat': a.inv_keys, 'cont': []},
                spur_covar_keys={'cat': a.spur_keys, 'cont': []},
                latent_dim_inv=20,
                latent_dim_spur=5,
                n_layers=2,
                hidden_dim=128,
                batch_norm=True,
                dropout_rate=0.1,
                decoder_dist='nb',
                batch_size=a.batch_size,
                device='cpu',
            )
            t0 = time.perf_counter()
            model = cls(adata, **config)
            setup_seconds = time.perf_counter() - t0

            # Per step: rows of the minibatch (the reference's module.elbo sees them) and the time the step ended.
            rows, ends, cpu_ends = [], [], []
            elbo = model.module.elbo

            def counting_elbo(x, *args, **kwargs):
                rows.append(int(x.shape[0]))
                return elbo(x, *args, **kwargs)

            model.module.elbo = counting_elbo
            total = a.warmup + a.steps
            adam_step = torch.optim.Adam.step

            def timed_step(self, *args, **kwargs):
                r = adam_step(self, *args, **kwargs)
                ends.append(time.perf_counter())
                cpu_ends.append(time.process_time())
                if len(ends) >= total:
                    raise _Done()
                return r

            steps_per_epoch = len(model.data_loader)
            epochs = math.ceil(total / steps_per_epoch) + 1
            torch.optim.Adam.step = timed_step
            t_train, cpu_train = time.perf_counter(), time.process_time()
            try:
                model.train(n_epochs=epochs, lr_train=1e-3, weight_decay=1e-4, print_every_n_epochs=epochs)
            except _Done:
                pass
            finally:
                torch.optim.Adam.step = adam_step
    if len(ends) < total:
        raise BenchError(f'training stopped after {len(ends)} of {total} steps (the reference ended its loop early, e.g. NaN loss)')
    t_start = ends[a.warmup - 1] if a.warmup > 0 else t_train
    seconds = ends[total - 1] - t_start
    cpu_seconds = cpu_ends[total - 1] - (cpu_ends[a.warmup - 1] if a.warmup > 0 else cpu_train)
    cells = sum(rows[a.warmup:total])
    return {
        'implementation': 'reference',
        'model': 'FinVAE' if a.model == 'finvae' else 'NFinVAE',
        'cells': int(adata.n_obs),
        'genes': int(adata.n_vars),
        'threads': a.threads,
        'batchSize': a.batch_size,
        'warmupSteps': a.warmup,
        'timedSteps': a.steps,
        'timedCells': cells,
        'cellsPerSecond': round(cells / seconds),
        'msPerStep': round(seconds * 1000 / a.steps, 1),
        'cpuMsPerStep': round(cpu_seconds * 1000 / a.steps, 1),
        'setupSeconds': round(setup_seconds, 2),
        'stepsPerEpoch': steps_per_epoch,
        'torch': torch.__version__,
        'torchThreads': torch.get_num_threads(),
        'anndata': anndata.__version__,
        'python': sys.version.split()[0],
        'referenceCommit': commit,
        'stubbedModules': stubbed,
    }


def main(argv=None):
    try:
        a = parse_args(sys.argv[1:] if argv is None else argv)
        print(json.dumps(run(a)))
        return 0
    except BenchError as e:
        print(f'bench-reference: {e}', file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
    except Exception as e:  # the reference failing mid-training: one line unless --debug-style tracing is asked
        if os.environ.get('INVAE_DEBUG') == '1':
            raise
        print(f'bench-reference: the reference failed: {type(e).__name__}: {e} (INVAE_DEBUG=1 shows the traceback)', file=sys.stderr)
        return 1


if __name__ == '__main__':
    sys.exit(main())
