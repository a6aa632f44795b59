"""Golden values for the RDP accountant tests (tests/Components/Privacy).

Standard library only (math, json): run with /usr/bin/python3 make_privacy_golden.py > privacy_golden.json

Two independent routes to the per-step RDP of the Poisson-subsampled Gaussian mechanism:
  * "series": the binomial sum (integer orders) and the two-sided erfc series of Mironov, Talwar and
    Zhang 2019 (arXiv 1908.10530, section 3.3) for fractional orders, written afresh here;
  * "integral": A_alpha = E_{z~N(0,s^2)}[((1-q) + q exp((2z-1)/(2 s^2)))^alpha] by composite Simpson
    quadrature, which shares no formula with the series beyond the definition.
log erfc far in the tail comes from the continued fraction (Lentz), not the asymptotic series the C# uses.
"""
import json
import math

LOG_HALF = math.log(0.5)


def log_add(a, b):
    hi, lo = max(a, b), min(a, b)
    if lo == -math.inf:
        return hi
    return hi + math.log1p(math.exp(lo - hi))


def log_erfc(x):
    if x < 20:
        return math.log(math.erfc(x))
    # erfc(x) = exp(-x^2)/sqrt(pi) * 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + ...)))), evaluated bottom-up.
    tail = x
    for n in range(400, 0, -1):
        tail = x + (n / 2.0) / tail
    return -x * x - 0.5 * math.log(math.pi) - math.log(tail)


def log_a_integer(sigma, q, alpha):
    total = -math.inf
    for k in range(alpha + 1):
        log_binomial = math.lgamma(alpha + 1) - math.lgamma(k + 1) - math.lgamma(alpha - k + 1)
        total = log_add(total, log_binomial + k * math.log(q) + (alpha - k) * math.log1p(-q) + (k * k - k) / (2 * sigma * sigma))
    return total


def log_a_fractional(sigma, q, alpha):
    z0 = sigma * sigma * math.log(1 / q - 1) + 0.5
    positive, negative = -math.inf, -math.inf
    coefficient = 1.0  # generalised binomial C(alpha, i), as a float (fine for the orders tested)
    i = 0
    while True:
        if i > 0:
            coefficient *= (alpha - i + 1) / i
        j = alpha - i
        log_c = math.log(abs(coefficient))
        lower = log_c + i * math.log(q) + j * math.log1p(-q) + (i * i - i) / (2 * sigma * sigma) + LOG_HALF + log_erfc((i - z0) / (math.sqrt(2) * sigma))
        upper = log_c + j * math.log(q) + i * math.log1p(-q) + (j * j - j) / (2 * sigma * sigma) + LOG_HALF + log_erfc((z0 - j) / (math.sqrt(2) * sigma))
        term = log_add(lower, upper)
        if coefficient > 0:
            positive = log_add(positive, term)
        else:
            negative = log_add(negative, term)
        if i > alpha and max(lower, upper) < -30:
            break
        i += 1
    if negative == -math.inf:
        return positive
    return positive + math.log1p(-math.exp(negative - positive))


def rdp_series(sigma, q, alpha):
    if q == 1:
        return alpha / (2 * sigma * sigma)
    if float(alpha).is_integer():
        return log_a_integer(sigma, q, int(alpha)) / (alpha - 1)
    return log_a_fractional(sigma, q, alpha) / (alpha - 1)


def rdp_integral(sigma, q, alpha, intervals=200000):
    lo, hi = -30 * sigma, alpha + 30 * sigma
    h = (hi - lo) / intervals
    log_norm = -math.log(sigma * math.sqrt(2 * math.pi))

    def log_f(z):
        inner = log_add(math.log1p(-q), math.log(q) + (2 * z - 1) / (2 * sigma * sigma))
        return -z * z / (2 * sigma * sigma) + log_norm + alpha * inner

    values = [log_f(lo + k * h) for k in range(intervals + 1)]
    peak = max(values)
    total = 0.0
    for k, value in enumerate(values):
        weight = 1 if k in (0, intervals) else (4 if k % 2 else 2)
        total += weight * math.exp(value - peak)
    log_a = peak + math.log(total * h / 3)
    return log_a / (alpha - 1)


DEFAULT_ORDERS = [(10 + k) / 10.0 for k in range(1, 100)] + list(range(12, 64))


def epsilon(sigma, q, steps, delta, conversion="improved", orders=DEFAULT_ORDERS):
    return epsilon_of_history([(sigma, q, steps)], delta, conversion, orders)


def epsilon_of_history(phases, delta, conversion="improved", orders=DEFAULT_ORDERS):
    """RDP adds over phases (sigma, q, steps); then the smallest epsilon over the orders."""
    best = (math.inf, math.nan)
    for a in orders:
        r = sum(steps * rdp_series(sigma, q, a) for sigma, q, steps in phases)
        if conversion == "improved":
            e = r + math.log((a - 1) / a) - (math.log(delta) + math.log(a)) / (a - 1)
        else:
            e = r - math.log(delta) / (a - 1)
        if e < best[0]:
            best = (e, a)
    return best


def calibrate(target, delta, q, steps, tolerance=0.01):
    sigma_low, sigma_high, eps_high = 0.0, 10.0, math.inf
    while eps_high > target:
        sigma_high *= 2
        eps_high = epsilon(sigma_high, q, steps, delta)[0]
    while target - eps_high > tolerance:
        sigma = (sigma_low + sigma_high) / 2
        eps = epsilon(sigma, q, steps, delta)[0]
        if eps < target:
            sigma_high, eps_high = sigma, eps
        else:
            sigma_low = sigma
    return sigma_high


def main():
    rdp_cases = []
    for sigma, q, orders in [
        (1.5, 0.04, [1.5, 2, 2.5, 3.7, 10.9, 32]),
        (1.12, 256 / 60000, [1.1, 5.5, 17]),
        (0.7, 0.3, [1.3, 2.5, 8.25]),
        (5.0, 0.001, [2.5, 63]),
        (1.0, 0.99, [1.7, 4.5]),
    ]:
        for a in orders:
            rdp_cases.append({"sigma": sigma, "q": q, "order": a,
                              "series": rdp_series(sigma, q, a), "integral": rdp_integral(sigma, q, a)})
    # A sweep over small and large noise, tiny to large sampling rates, and orders in (1, 2), (2, 10) and beyond.
    for sigma in [0.3, 0.6, 2.0, 10.0]:
        for q in [1e-5, 1e-3, 0.1, 0.5, 0.9]:
            for a in [1.1, 2.5, 7.75, 32.5]:
                rdp_cases.append({"sigma": sigma, "q": q, "order": a,
                                  "series": rdp_series(sigma, q, a), "integral": rdp_integral(sigma, q, a, intervals=40000)})

    log_erfc_cases = [{"x": x, "logErfc": log_erfc(x)} for x in [-3.0, -0.5, 0.0, 0.5, 2.0, 5.0, 10.0, 19.0, 24.9, 25.1, 26.0, 30.0, 100.0, 1000.0]]

    epsilon_cases = []
    for sigma, q, steps, delta, conversion in [
        (1.5, 0.04, 2250, 1e-5, "improved"),
        (1.12, 256 / 60000, 14062, 1e-5, "classic"),
        (1.2, 256 / 60000, 2343, 1e-5, "classic"),
        (1.1, 256 / 60000, 4687, 1e-5, "improved"),
        (0.8, 0.01, 1000, 1e-6, "improved"),
        (3.0, 0.5, 10, 1e-5, "classic"),
    ]:
        eps, order = epsilon(sigma, q, steps, delta, conversion)
        epsilon_cases.append({"sigma": sigma, "q": q, "steps": steps, "delta": delta, "conversion": conversion,
                              "epsilon": eps, "order": order})

    history = [(1.0, 0.01, 300), (2.0, 0.05, 100), (0.8, 0.002, 5000)]
    history_cases = []
    for conversion in ["improved", "classic"]:
        eps, order = epsilon_of_history(history, 1e-6, conversion)
        history_cases.append({"phases": [list(phase) for phase in history], "delta": 1e-6, "conversion": conversion,
                              "epsilon": eps, "order": order})

    calibration = {"targetEpsilon": 8.0, "delta": 1e-5, "q": 0.04, "steps": int(90 / 0.04),
                   "sigma": calibrate(8.0, 1e-5, 0.04, int(90 / 0.04))}
    print(json.dumps({"rdp": rdp_cases, "logErfc": log_erfc_cases, "epsilon": epsilon_cases, "history": history_cases,
                      "calibration": calibration}, indent=1))


if __name__ == "__main__":
    main()
