# ruff: noqa: E501  (a table of sentences: Chinese characters count double toward the line length)
"""Every learner-facing text of the checkers, one table per language: `use_language("zh")` switches them all.

`text(key, **fields)` fills a template of the current language. The English table is the reference: every key
it has must exist in every other table (tests/test_zh_terms.py checks it), so a checker never falls back to
a language the learner did not ask for. Maintainer errors (CheckerError) stay in English.
"""

from __future__ import annotations

EN: dict[str, str] = {
    # ---- the verdicts (_check.py)
    "correct": "{mark} {name}: correct.",
    "todo": "{mark} {name}: not answered yet. Replace the `...` with your code and run the cell again.",
    "too_slow": "your function ran longer than {limit:g} s",
    "too_slow_verdict": "{mark} {name}: {too_slow}. Look for a loop that never ends, "
                        "or for work that grows much faster than the input.",
    "raised": "{mark} {name}: your code raised {exc_type}: {exc}. Hint: {hint}",
    "unreadable": "{mark} {name}: expected {want}, got an object of type {got_type} that the checker cannot read.",
    "form_verdict": "{mark} {name}: {why}.{extra}",
    "hint_suffix": " Hint: {hint}",
    "not_quite": "{mark} {name}: not quite{shown}.{nan}{hint}",
    "you_gave": " (you gave {got})",
    "nan": " Your answer contains NaN or inf.",
    # ---- what an answer is, or should be
    "want_sequence": "a {kind} of {n}{tensors}",
    "tensors": " tensors",
    "want_tensor": "a tensor of shape {shape}",
    "want_int": "a Python int",
    "want_number": "a number",
    "got_tensor": "a tensor of shape {shape}",
    "got_sequence": "a {kind} of {n}",
    # ---- why an answer's form is wrong
    "expected_got": "expected {want}, got {got}",
    "not_numbers": "expected {want}, got {got} that is not numbers",
    "in_element": "in element {i} of the {kind}: {why}",
    "expected_shape": "expected shape {want}, got {got}",
    "complex": "expected real numbers, got complex ones",
    "expected_tensor": "expected a tensor of shape {shape}, got {got}",
    "expected_int": "expected a Python int, got {got}",
    "expected_scalar": "expected a single number (shape []), got {shape}",
    "expected_number": "expected a number, got {got}",
    # ---- 01 · generative
    "01.sample_x.name": "ancestral sample",
    "01.sample_x.hint": "first z = eps_z (a draw from the prior N(0, I)); then x = W z + b plus noise of standard "
                        "deviation sigma (not sigma²). With rows as samples, W z is z @ W.T.",
    "01.sample_x.tuple": "you returned a tuple, like (z, x) from LinearGaussian.sample. Return only x, a tensor [n, d].",
    "01.log_joint.name": "log joint",
    "01.log_joint.hint": "log p(x, z) = log p(z) + log p(x|z): both terms, each summed over its own dimensions. "
                         "torch.distributions.Normal(...).log_prob(...).sum(-1) does one term.",
    "01.naive_evidence.name": "naive Monte Carlo log-evidence",
    "01.naive_evidence.hint": "average the likelihoods p(x|z_s), not their logs (the mean of the logs is smaller, by "
                              "Jensen). exp(-1000) underflows to 0: use torch.logsumexp(log_lik, 0) - log S.",
    # ---- 02 · p_and_q
    "02.grid_posterior.name": "posterior on a grid",
    "02.grid_posterior.hint": "prior × likelihood is only proportional to the posterior: divide by the evidence "
                              "p(x) ≈ Σ p(x|z) p(z) Δz so that the density integrates to 1. Work in logs "
                              "(torch.logsumexp).",
    "02.lg_posterior.name": "linear-Gaussian posterior",
    "02.lg_posterior.hint": "precision = prior precision + data precision = I + WᵀW/σ² (do not forget the prior's I); "
                            "cov = inverse of that; mean = cov Wᵀ(x − b)/σ², i.e. (x − b) @ W @ cov / σ² for rows.",
    # ---- 03 · elbo
    "03.log_marginal.name": "log p(x) of the linear-Gaussian model",
    "03.log_marginal.hint": "x = Wz + b + noise is Gaussian with mean b and covariance W Wᵀ + σ² I (don't forget the "
                            "noise); use torch.distributions.MultivariateNormal(...).log_prob(x).",
    "03.elbo_estimate.name": "Monte Carlo ELBO",
    "03.elbo_estimate.hint": "z = mu + std * eps; for each sample add log p(x|z) + log p(z) and SUBTRACT log q(z|x) "
                             "(each summed over its last dim), then average over the sample dim 0.",
    "03.gap_kl.name": "the gap is KL(q ‖ p(z|x))",
    "03.gap_kl.hint": "the order matters: KL(q ‖ posterior), not KL(posterior ‖ q). Build the posterior N(m, Σ) with "
                      "Σ = (I + WᵀW/σ²)⁻¹ and m = Σ Wᵀ(x − b)/σ², q as MultivariateNormal(mu, scale_tril=diag(std)), "
                      "then torch.distributions.kl_divergence(q, posterior).",
    "03.iwae.name": "IWAE bound from log weights",
    "03.iwae.hint": "the bound is log( (1/k) Σ_i w_i ), not the mean of log w_i (that is the ELBO). The weights "
                    "underflow to 0 if you exponentiate directly: use torch.logsumexp(log_w, dim=0) − log k.",
    # ---- 04 · loss
    "04.gaussian_kl.name": "closed-form Gaussian KL",
    "04.gaussian_kl.hint": "KL = ½ Σ_j (μ_j² + σ_j² − 1 − log σ_j²) with σ² = exp(logvar); it is ≥ 0, summed over "
                           "the last dim.",
    "04.gaussian_nll.name": "Gaussian negative log-likelihood",
    "04.gaussian_nll.hint": "squared error alone is not the NLL: divide the summed squared error by 2σ_x², then add "
                            "(d/2)·log(2πσ_x²) where d is the number of pixels.",
    "04.bce_mass.name": "total mass BCE gives grey pixels",
    "04.bce_mass.hint": "integrate exp(x·log p + (1−x)·log(1−p)) over x from 0 to 1, e.g. torch.trapezoid on "
                        "torch.linspace(0, 1, 4001), or use the closed form (2p − 1) / log(p / (1 − p)). "
                        "A normalised density would give exactly 1; this one does not.",
    "04.loss.name": "loss in nats per image",
    "04.loss.sum_mean": "sum over pixels and over latent dims (both belong to ONE image's log-probability), then "
                        "average over the batch.",
    "04.loss.hint": "{sum_mean} Averaging over pixels shrinks the reconstruction term by d and tilts the balance.",
    "04.loss.batch_summed": "not quite. Hint: your number is n = {n} times too large: you summed over the batch too. "
                            "Summing over the batch only rescales the loss, but 'nats per image' means averaging "
                            "over the batch: divide by n.",
    "04.loss.pixels_averaged": "not quite. Hint: your reconstruction term is d = {d} times too small: you averaged "
                               "over pixels. {sum_mean} Averaging over pixels shrinks the reconstruction term by d "
                               "and tilts the balance towards the KL.",
    # ---- 05 · reparam
    "05.pair_form": "return a tuple of two tensors `(d_mu, d_sigma)`, each the same shape as mu (not one stacked "
                    "tensor, not Python floats)",
    "05.reparam_sample.name": "reparameterised sample",
    "05.reparam_sample.hint": "z is a deterministic function of (mu, sigma) and the noise eps: shift by mu, scale by "
                              "sigma.",
    "05.score.name": "score of a Gaussian",
    "05.score.hint": "log q = -log sigma - (z - mu)^2 / (2 sigma^2) + const; differentiate by mu, then by sigma.",
    "05.pathwise_sin.name": "pathwise gradient of sin z",
    "05.pathwise_sin.hint": "chain rule: d f / d mu = f'(z) * dz/dmu with f'(z) = cos z, dz/dmu = 1 and "
                            "dz/dsigma = eps.",
    "05.exact_grad_exp.name": "exact gradient of E[exp(z)]",
    "05.exact_grad_exp.hint": "first write E[e^z] in closed form, exp(mu + sigma^2 / 2), then differentiate by mu and "
                              "by sigma.",
    # ---- 06 · training
    "06.kl_per_dim.name": "KL per latent dimension",
    "06.kl_per_dim.hint": "per dim: 0.5 * (mu^2 + exp(logvar) - 1 - logvar); average over the batch (dim 0); keep k "
                          "dims.",
    "06.active_units.name": "active units",
    "06.active_units.hint": "take the variance of each column of mu across the data points (dim 0); count those "
                            "above 0.01.",
    "06.bits_per_dim.name": "nats per image to bits per pixel",
    "06.bits_per_dim.hint": "1 nat = 1 / ln 2 bits, and an image has 64 pixels.",
    # ---- 07 · tradeoff
    "07.beta_loss.name": "β-weighted loss",
    "07.beta_loss.hint": "the loss is the negative ELBO with the KL (rate) multiplied by β: distortion + β·rate.",
    "07.warmup.name": "linear KL warm-up",
    "07.warmup.hint": "β is 0 at epoch 0, rises in a straight line, reaches 1 at warmup_epochs and never exceeds 1.",
    "07.dims_in_use.name": "dimensions in use",
    "07.dims_in_use.form": "return the count as a Python int, e.g. int((kl_per_dim > threshold).sum()).",
    "07.dims_in_use.hint": "count the entries of kl_per_dim strictly above threshold (use >, not >=) and return a "
                           "Python int, e.g. int((kl_per_dim > threshold).sum()).",
    # ---- 08 · latent
    "08.inverse_cdf.name": "Gaussian inverse CDF",
    "08.inverse_cdf.hint": "Φ⁻¹(0.5) = 0 and Φ⁻¹(0.975) ≈ 1.96; try torch.distributions.Normal(0., 1.).icdf(u).",
    "08.interpolate.name": "linear interpolation",
    "08.interpolate.hint": "take t = torch.linspace(0, 1, steps) as a column; return (1 - t) * a + t * b "
                           "(rows a ... b).",
    "08.correlation.name": "Pearson correlation",
    "08.correlation.hint": "centre both samples, then divide the sum of products by the product of the two norms.",
    # ---- 09 · why_aevb
    "09.wake_sleep.name": "wake and sleep losses",
    "09.wake_sleep.hint": "wake: minus the batch mean of log p(z) + log p(x|z) (the joint); sleep: minus the mean of "
                          "log q on the dreams. Return them as a pair (wake, sleep).",
    "09.leapfrog.name": "one leapfrog step",
    "09.leapfrog.hint": "p += step/2 * grad_log_p(z); z += step * p; p += step/2 * grad_log_p(z) (the new z).",
}

ZH: dict[str, str] = {
    "correct": "{mark} {name}：正确。",
    "todo": "{mark} {name}：尚未作答。把 `...` 换成你的代码，再运行这个单元格。",
    "too_slow": "你的函数运行超过了 {limit:g} 秒",
    "too_slow_verdict": "{mark} {name}：{too_slow}。检查是否有永不结束的循环，或者计算量是否比输入增长得快得多。",
    "raised": "{mark} {name}：你的代码抛出了 {exc_type}: {exc}。提示：{hint}",
    "unreadable": "{mark} {name}：应为{want}，得到的却是检查程序无法读取的 {got_type} 类型对象。",
    "form_verdict": "{mark} {name}：{why}。{extra}",
    "hint_suffix": "提示：{hint}",
    "not_quite": "{mark} {name}：还不对{shown}。{nan}{hint}",
    "you_gave": "（你给出的是 {got}）",
    "nan": "你的答案里有 NaN 或 inf。",
    "want_sequence": "含 {n} 个{tensors}元素的 {kind}",
    "tensors": "张量",
    "want_tensor": "形状为 {shape} 的张量",
    "want_int": "一个 Python int",
    "want_number": "一个数",
    "got_tensor": "形状为 {shape} 的张量",
    "got_sequence": "含 {n} 个元素的 {kind}",
    "expected_got": "应为{want}，得到的是{got}",
    "not_numbers": "应为{want}，得到的是{got}，但其中不是数值",
    "in_element": "{kind} 的第 {i} 个元素：{why}",
    "expected_shape": "形状应为 {want}，得到的是 {got}",
    "complex": "应为实数，得到的是复数",
    "expected_tensor": "应为形状为 {shape} 的张量，得到的是{got}",
    "expected_int": "应为一个 Python int，得到的是{got}",
    "expected_scalar": "应为单个数（形状 []），得到的形状是 {shape}",
    "expected_number": "应为一个数，得到的是{got}",
    "01.sample_x.name": "祖先采样",
    "01.sample_x.hint": "先取 z = eps_z（从先验 N(0, I) 中的一次抽样）；再令 x = W z + b 加上标准差为 sigma（不是 sigma²）"
                        "的噪声。每一行是一个样本时，W z 写作 z @ W.T。",
    "01.sample_x.tuple": "你返回了一个 tuple，就像 LinearGaussian.sample 返回的 (z, x)。只需返回 x，一个 [n, d] 的张量。",
    "01.log_joint.name": "对数联合概率",
    "01.log_joint.hint": "log p(x, z) = log p(z) + log p(x|z)：两项都要，各自在自己的维度上求和。"
                         "torch.distributions.Normal(...).log_prob(...).sum(-1) 给出其中一项。",
    "01.naive_evidence.name": "朴素蒙特卡洛对数证据",
    "01.naive_evidence.hint": "对似然 p(x|z_s) 求平均，而不是对它们的对数求平均（由 Jensen 不等式，对数的均值更小）。"
                              "exp(-1000) 会下溢为 0：用 torch.logsumexp(log_lik, 0) - log S。",
    "02.grid_posterior.name": "网格上的后验",
    "02.grid_posterior.hint": "先验 × 似然只与后验成正比：要除以证据 p(x) ≈ Σ p(x|z) p(z) Δz，使密度积分为 1。"
                              "在对数域里计算（torch.logsumexp）。",
    "02.lg_posterior.name": "线性高斯模型的后验",
    "02.lg_posterior.hint": "精度 = 先验精度 + 数据精度 = I + WᵀW/σ²（别忘了先验的 I）；协方差是它的逆；"
                            "均值 = cov Wᵀ(x − b)/σ²，按行写就是 (x − b) @ W @ cov / σ²。",
    "03.log_marginal.name": "线性高斯模型的 log p(x)",
    "03.log_marginal.hint": "x = Wz + b + 噪声服从均值为 b、协方差为 W Wᵀ + σ² I 的高斯分布（别忘了噪声）；"
                            "用 torch.distributions.MultivariateNormal(...).log_prob(x)。",
    "03.elbo_estimate.name": "证据下界的蒙特卡洛估计",
    "03.elbo_estimate.hint": "z = mu + std * eps；对每个样本把 log p(x|z) + log p(z) 相加，再减去 log q(z|x)"
                             "（每项都在最后一维上求和），最后在样本维 0 上取平均。",
    "03.gap_kl.name": "差距就是 KL(q ‖ p(z|x))",
    "03.gap_kl.hint": "顺序很重要：是 KL(q ‖ 后验)，不是 KL(后验 ‖ q)。用 Σ = (I + WᵀW/σ²)⁻¹ 和 m = Σ Wᵀ(x − b)/σ² "
                      "构造后验 N(m, Σ)，把 q 写成 MultivariateNormal(mu, scale_tril=diag(std))，"
                      "再调用 torch.distributions.kl_divergence(q, posterior)。",
    "03.iwae.name": "由对数权重求 IWAE 下界",
    "03.iwae.hint": "这个下界是 log( (1/k) Σ_i w_i )，不是 log w_i 的均值（那是证据下界）。直接取指数，权重会下溢为 0："
                    "用 torch.logsumexp(log_w, dim=0) − log k。",
    "04.gaussian_kl.name": "高斯分布 KL 的闭式解",
    "04.gaussian_kl.hint": "KL = ½ Σ_j (μ_j² + σ_j² − 1 − log σ_j²)，其中 σ² = exp(logvar)；它 ≥ 0，在最后一维上求和。",
    "04.gaussian_nll.name": "高斯负对数似然",
    "04.gaussian_nll.hint": "单有平方误差还不是负对数似然：把平方误差之和除以 2σ_x²，再加上 (d/2)·log(2πσ_x²)，"
                            "其中 d 是像素数。",
    "04.bce_mass.name": "BCE 分给灰度像素的总概率质量",
    "04.bce_mass.hint": "把 exp(x·log p + (1−x)·log(1−p)) 对 x 从 0 到 1 积分，例如在 torch.linspace(0, 1, 4001) 上用 "
                        "torch.trapezoid，或者用闭式解 (2p − 1) / log(p / (1 − p))。归一化的密度应恰好给出 1，这个却不是。",
    "04.loss.name": "每张图像的损失（nats）",
    "04.loss.sum_mean": "在像素和隐变量维度上求和（两者都属于同一张图像的对数概率），再在批次上取平均。",
    "04.loss.hint": "{sum_mean}对像素取平均会让重构项缩小 d 倍，使两项的平衡发生偏移。",
    "04.loss.batch_summed": "还不对。提示：你的结果大了 n = {n} 倍：你把批次也求和了。对批次求和只会缩放损失，"
                            "但“每张图像的 nats”意味着在批次上取平均：除以 n。",
    "04.loss.pixels_averaged": "还不对。提示：你的重构项小了 d = {d} 倍：你对像素取了平均。{sum_mean}"
                               "对像素取平均会让重构项缩小 d 倍，使平衡偏向 KL 项。",
    "05.pair_form": "返回由两个张量组成的 tuple `(d_mu, d_sigma)`，每个的形状都与 mu 相同（不要叠成一个张量，也不要返回 "
                    "Python float）",
    "05.reparam_sample.name": "重参数化采样",
    "05.reparam_sample.hint": "z 是 (mu, sigma) 和噪声 eps 的确定性函数：先乘以 sigma 缩放，再加上 mu 平移。",
    "05.score.name": "高斯分布的得分函数",
    "05.score.hint": "log q = -log sigma - (z - mu)^2 / (2 sigma^2) + 常数；先对 mu 求导，再对 sigma 求导。",
    "05.pathwise_sin.name": "sin z 的路径梯度",
    "05.pathwise_sin.hint": "链式法则：d f / d mu = f'(z) * dz/dmu，其中 f'(z) = cos z，dz/dmu = 1，dz/dsigma = eps。",
    "05.exact_grad_exp.name": "E[exp(z)] 的精确梯度",
    "05.exact_grad_exp.hint": "先写出 E[e^z] 的闭式解 exp(mu + sigma^2 / 2)，再分别对 mu 和 sigma 求导。",
    "06.kl_per_dim.name": "每个隐变量维度的 KL",
    "06.kl_per_dim.hint": "每一维：0.5 * (mu^2 + exp(logvar) - 1 - logvar)；在批次（维 0）上取平均；保留 k 个维度。",
    "06.active_units.name": "活跃单元",
    "06.active_units.hint": "沿数据点（维 0）求 mu 每一列的方差；数出大于 0.01 的列。",
    "06.bits_per_dim.name": "每张图像的 nats 换算为每像素比特数",
    "06.bits_per_dim.hint": "1 nat = 1 / ln 2 比特，一张图像有 64 个像素。",
    "07.beta_loss.name": "β 加权损失",
    "07.beta_loss.hint": "损失是负的证据下界，其中 KL（码率）乘以 β：失真 + β·码率。",
    "07.warmup.name": "KL 线性预热",
    "07.warmup.hint": "第 0 轮时 β 为 0，沿直线增长，在 warmup_epochs 时达到 1，之后不再超过 1。",
    "07.dims_in_use.name": "在用的维度数",
    "07.dims_in_use.form": "以 Python int 返回计数，例如 int((kl_per_dim > threshold).sum())。",
    "07.dims_in_use.hint": "数出 kl_per_dim 中严格大于 threshold 的元素（用 >，不是 >=），返回一个 Python int，"
                           "例如 int((kl_per_dim > threshold).sum())。",
    "08.inverse_cdf.name": "高斯分布的逆累积分布函数",
    "08.inverse_cdf.hint": "Φ⁻¹(0.5) = 0，Φ⁻¹(0.975) ≈ 1.96；试试 torch.distributions.Normal(0., 1.).icdf(u)。",
    "08.interpolate.name": "线性插值",
    "08.interpolate.hint": "取 t = torch.linspace(0, 1, steps) 作为一列；返回 (1 - t) * a + t * b（各行从 a 到 b）。",
    "08.correlation.name": "皮尔逊相关系数",
    "08.correlation.hint": "先把两个样本都中心化，再用乘积之和除以两个范数之积。",
    "09.wake_sleep.name": "醒相与睡相的损失",
    "09.wake_sleep.hint": "醒相：log p(z) + log p(x|z)（联合概率）的批次均值取负；睡相：梦境样本上 log q 的均值取负。"
                          "以 (wake, sleep) 一对返回。",
    "09.leapfrog.name": "一步蛙跳积分",
    "09.leapfrog.hint": "p += step/2 * grad_log_p(z)；z += step * p；p += step/2 * grad_log_p(z)（用新的 z）。",
}

TABLES: dict[str, dict[str, str]] = {"en": EN, "zh": ZH}
_current = {"language": "en"}


def use_language(language: str) -> None:
    """Print every checker's verdicts and hints in `language`: "en" (the default) or "zh" (简体中文).

    The setup cell of each notebooks/zh/ notebook with exercises calls it; not called from a notebook of the
    English edition.
    """
    if not isinstance(language, str) or language not in TABLES:
        got = repr(language) if isinstance(language, str) else f"{type(language).__name__} {language!r}"
        raise ValueError(f"language must be one of {sorted(TABLES)}, got {got}")
    _current["language"] = language


def current_language() -> str:
    """The language the checkers speak now ("en" or "zh"); not called from a notebook."""
    return _current["language"]


def text(key: str, **fields) -> str:
    """The current language's template `key`, filled with `fields` (KeyError names a key missing from the table)."""
    return TABLES[_current["language"]][key].format(**fields)
