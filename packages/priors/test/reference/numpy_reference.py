"""Independent float64 NumPy evaluation of the inVAE reference modules (FinVAE / NFinVAE) in eval mode.

Written for invae's cross-check test from the semantics of theislab/inVAE (not a copy of its code):
usage: numpy_reference.py CONFIG.json WEIGHTS.safetensors INPUTS.safetensors [train] -> JSON on stdout.
With `train`, BatchNorm layers normalise by the batch mean and biased batch variance (PyTorch training
mode; dropout must be 0) and the updated running statistics are reported.
Derivatives of the non-factorised prior are taken by central finite differences (no autodiff), so
they are independent of invae's analytic derivative code.
"""
import json
import math
import struct
import sys

import numpy as np
from scipy.special import gammaln, logsumexp

DTYPES = {"F32": "<f4", "F64": "<f8", "I32": "<i4", "I64": "<i8", "U8": "u1", "BOOL": "u1"}


def read_safetensors(path):
    with open(path, "rb") as fh:
        raw = fh.read()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8 : 8 + n])
    data = raw[8 + n :]
    out = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        b, end = e["data_offsets"]
        out[name] = np.frombuffer(data[b:end], dtype=DTYPES[e["dtype"]]).reshape(e["shape"]).astype(np.float64)
    return out


cfg = json.load(open(sys.argv[1]))
W = read_safetensors(sys.argv[2])
I = read_safetensors(sys.argv[3])
training = len(sys.argv) > 4 and sys.argv[4] == "train"
updated_stats = {}
model = cfg["model"]
fin = model == "FinVAE"
act_name = cfg.get("activation", "relu")
slope_cfg = cfg.get("slope", 0.1)
inject = cfg.get("inject_covar_in_latent", False)
decoder_dist = cfg.get("decoder_dist", "nb")
d_inv = cfg["latent_dim_inv"]
d_spur = cfg["latent_dim_spur"]


def act(h, slope):
    if act_name == "relu":
        return np.maximum(h, 0)
    return np.where(h > 0, h, slope * h)


def n_fc(prefix):
    return sum(1 for k in W if k.startswith(prefix + ".fc.") and k.endswith(".weight"))


def linear(prefix, h):
    return h @ W[prefix + ".weight"].T + W[prefix + ".bias"]


def mlp(prefix, h, end_with_act=False, slope=0.1):
    n = n_fc(prefix)
    assert n > 0, prefix
    for c in range(n):
        h = linear(f"{prefix}.fc.{c}", h)
        bn = f"{prefix}.bn.{c}"
        if bn + ".weight" in W:
            if training:
                m, v = h.mean(0), h.var(0)
                rows = h.shape[0]
                # first update wins: the reference's second call of a prior net (frozen copy) updates again
                key = bn + ".running_mean"
                updated_stats.setdefault(key, []).append((0.99 * W[key] + 0.01 * m).tolist())
                key = bn + ".running_var"
                updated_stats.setdefault(key, []).append((0.99 * W[key] + 0.01 * v * rows / (rows - 1)).tolist())
            else:
                m, v = W[bn + ".running_mean"], W[bn + ".running_var"]
            h = (h - m) / np.sqrt(v + 1e-3) * W[bn + ".weight"] + W[bn + ".bias"]
        if c < n - 1 or end_with_act:
            h = act(h, slope)
    return h


def log_normal(x, mu, v):
    return (-0.5 * (math.log(2 * math.pi) + np.log(v) + (x - mu) ** 2 / v)).sum(-1)


def log_nb(x, mu, theta, eps=1e-8):
    l = np.log(theta + mu + eps)
    r = theta * (np.log(theta + eps) - l) + x * (np.log(mu + eps) - l) + gammaln(x + theta) - gammaln(theta) - gammaln(x + 1)
    return r.sum(-1)


x = I["x"]
inv = I.get("inv_covar")
spur = I.get("spur_covar")
eps = I["eps"]
B = x.shape[0]
inv_dim = 0 if inv is None else inv.shape[1]
spur_dim = 0 if spur is None else spur.shape[1]

# encoder
parts = [np.log(x + 1) if decoder_dist == "nb" else x]
if inv_dim:
    parts.append(inv)
if spur_dim:
    parts.append(spur)
xin = np.concatenate(parts, 1)
if fin:
    h = mlp("shared_encoder", xin, True, slope_cfg)
    mean, var = linear("g", h), np.exp(linear("logv", h)) + 1e-4
else:
    h = mlp("x_y_e_encoder", xin, True, 0.1)
    mean, var = linear("latent_mean", h), np.exp(linear("latent_log_var", h)) + 1e-4
z = mean + eps * np.sqrt(var)

# decoder
zde = np.concatenate([z, spur], 1) if (inject and spur_dim) else z
if decoder_dist == "nb":
    hd = mlp("decoder_raw_mean", zde, False, 0.1)
    logits = linear("decoder_freq.0", hd)
    freq = np.exp(logits - logits.max(1, keepdims=True))
    freq /= freq.sum(1, keepdims=True)
    dec_mean = freq * x.sum(1, keepdims=True)
    theta = np.exp(W["decoder_raw_theta"])
    log_px = log_nb(x, dec_mean, theta)
else:
    dec_mean = mlp("f" if fin else "decoder_mean", zde, False, slope_cfg if fin else 0.1)
    theta = None
    log_px = log_normal(x, dec_mean, 0.01)


def gaussian_prior(role, u):
    """(mean, var) of a Gaussian prior; which variant is read off the weight names."""
    if u is None or u.shape[1] == 0:
        return 0.0, 1.0
    if f"prior_nn_{role}.fc.0.weight" in W:
        hh = mlp(f"prior_nn_{role}", u, True, slope_cfg)
        return linear(f"prior_mean_{role}", hh), np.exp(linear(f"logl_{role}", hh)) + 1e-4
    if f"logl_{role}.fc.0.weight" in W:
        return 0.0, np.exp(mlp(f"logl_{role}", u, False, slope_cfg)) + 1e-4
    if f"prior_mean_{role}.fc.0.weight" in W:
        return mlp(f"prior_mean_{role}", u, False, slope_cfg), 1.0
    return 0.0, 1.0


beta = cfg.get("kl_rate", 1.0) if fin else 1.0
tc_beta = cfg.get("tc_beta", 0.0)
N = cfg.get("dataset_size")
z_inv, z_spur = z[:, :d_inv], z[:, d_inv:]
out = {}
if fin and cfg.get("elbo_version", "sample") == "kl_div":
    def kl(mq, vq, mp, vp):
        return (0.5 * np.log(vp / vq) + (vq + (mq - mp) ** 2) / (2 * vp) - 0.5).sum(-1)
    mp, vp = gaussian_prior("inv", inv)
    k = kl(mean[:, :d_inv], var[:, :d_inv], mp, vp)
    if not inject and d_spur:
        mp, vp = gaussian_prior("spur", spur)
        k = k + kl(mean[:, d_inv:], var[:, d_inv:], mp, vp)
    objective = (log_px - beta * k).mean()
else:
    log_qz = log_normal(z, mean, var)
    sm = 0.0
    if fin:
        mp, vp = gaussian_prior("inv", inv)
        log_p = log_normal(z_inv, mp, vp)
    else:
        lam = mlp("params_t_nn", inv, False, 0.1)
        suff = mlp("params_t_suff", inv, False, 0.1)

        def logp(zz):
            return (mlp("t_nn", zz, False, 0.1) * lam).sum(1) + (np.concatenate([zz, zz**2], 1) * suff).sum(1)

        def grad(zz, h=1e-6):
            g = np.zeros_like(zz)
            for j in range(zz.shape[1]):
                e = np.zeros_like(zz)
                e[:, j] = h
                g[:, j] = (logp(zz + e) - logp(zz - e)) / (2 * h)
            return g

        g = grad(z_inv)
        d2 = np.zeros_like(z_inv)
        for j in range(d_inv):  # derivative of sum_i dlogp/dz_i w.r.t. z_j (what the reference differentiates)
            e = np.zeros_like(z_inv)
            e[:, j] = 1e-4
            d2[:, j] = (grad(z_inv + e).sum(1) - grad(z_inv - e).sum(1)) / 2e-4
        reg = cfg.get("reg_sm", 0.0)
        sm = (d2 + 0.5 * g**2 + reg * d2**2).sum(1).mean()
        log_p = logp(z_inv)
    if not inject:
        mp, vp = gaussian_prior("spur", spur)
        log_p = log_p + (log_normal(z_spur, mp, vp) if d_spur else 0.0)
    per_cell = log_px + beta * (log_p - log_qz)
    if tc_beta > 0:
        lq = -0.5 * (math.log(2 * math.pi) + np.log(var[None]) + (z[:, None, :] - mean[None]) ** 2 / var[None])
        lbn = math.log(B * N)
        lqz = logsumexp(lq.sum(2), 1) - lbn
        lqi = logsumexp(lq[:, :, :d_inv].sum(2), 1) - lbn
        lqs = logsumexp(lq[:, :, d_inv:].sum(2), 1) - lbn
        per_cell = per_cell - tc_beta * (lqz - lqi - lqs)
    objective = per_cell.mean()
    if not fin:
        objective = objective / cfg.get("normalize_constant", 1.0) - beta * sm
        out["score_matching"] = float(sm)

out.update(
    encoder_mean=mean.tolist(),
    encoder_var=var.tolist(),
    z=z.tolist(),
    decoder_mean=dec_mean.tolist(),
    theta=None if theta is None else theta.tolist(),
    log_px_z=log_px.tolist(),
    objective=float(objective),
    updated_running_stats={k: v[0] for k, v in updated_stats.items()},
)
print(json.dumps(out))
