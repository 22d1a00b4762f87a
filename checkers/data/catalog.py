"""The product catalogue behind the generated events, and the random draws every part of the generator uses.

Every random number comes from ``Generator.random`` (the most stable primitive of numpy's PCG64 stream), so the
same seed gives the same file on every machine and numpy version; :mod:`checkers.data.generate` builds the sessions
and the dirt on top of this.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

# ── catalogue ────────────────────────────────────────────────────────────────────────────────
# (category_code or None, typical price in USD, share of products, brands sold in it)
_CATEGORIES: tuple[tuple[str | None, float, float, tuple[str, ...]], ...] = (
    ("electronics.smartphone", 260.0, 14.0, ("samsung", "apple", "xiaomi", "huawei", "oppo", "meizu", "vivo",
                                             "honor", "nokia")),
    ("electronics.audio.headphone", 45.0, 3.0, ("sony", "jbl", "apple", "samsung", "xiaomi", "sennheiser")),
    ("electronics.audio.subwoofer", 150.0, 0.6, ("pioneer", "jbl", "kenwood", "alpine")),
    ("electronics.video.tv", 420.0, 3.5, ("samsung", "lg", "sony", "philips", "hisense", "tcl")),
    ("electronics.clocks", 190.0, 3.0, ("apple", "samsung", "garmin", "casio", "xiaomi", "amazfit")),
    ("electronics.tablet", 230.0, 1.2, ("apple", "samsung", "lenovo", "huawei")),
    ("electronics.camera.photo", 520.0, 0.6, ("canon", "nikon", "sony", "fujifilm")),
    ("electronics.telephone", 28.0, 0.5, ("panasonic", "gigaset", "alcatel")),
    ("computers.notebook", 640.0, 3.0, ("acer", "asus", "lenovo", "hp", "dell", "apple", "msi")),
    ("computers.desktop", 720.0, 0.8, ("hp", "lenovo", "acer", "dell")),
    ("computers.peripherals.mouse", 16.0, 1.0, ("logitech", "a4tech", "defender", "razer")),
    ("computers.peripherals.printer", 150.0, 0.8, ("hp", "canon", "epson", "brother")),
    ("computers.components.videocards", 460.0, 0.8, ("msi", "gigabyte", "asus", "palit")),
    ("appliances.kitchen.washer", 310.0, 2.5, ("lg", "samsung", "indesit", "beko", "bosch", "electrolux")),
    ("appliances.kitchen.refrigerators", 520.0, 2.5, ("lg", "samsung", "atlant", "indesit", "bosch", "beko")),
    ("appliances.kitchen.microwave", 95.0, 1.0, ("samsung", "lg", "midea", "gorenje")),
    ("appliances.kitchen.kettle", 30.0, 1.2, ("tefal", "bosch", "philips", "redmond", "vitek")),
    ("appliances.kitchen.blender", 48.0, 0.8, ("philips", "bosch", "moulinex", "braun")),
    ("appliances.kitchen.hood", 160.0, 0.8, ("elikor", "bosch", "krona", "gorenje")),
    ("appliances.environment.vacuum", 125.0, 2.0, ("samsung", "lg", "philips", "dyson", "xiaomi", "bosch")),
    ("appliances.environment.water_heater", 120.0, 1.0, ("ariston", "thermex", "electrolux")),
    ("appliances.environment.air_heater", 45.0, 0.8, ("ballu", "timberk", "electrolux")),
    ("appliances.iron", 32.0, 0.8, ("tefal", "philips", "braun", "bosch")),
    ("appliances.personal.hair_cutter", 36.0, 0.6, ("philips", "braun", "panasonic", "remington")),
    ("apparel.shoes", 75.0, 1.5, ("adidas", "nike", "puma", "reebok", "respect")),
    ("apparel.shoes.sneakers", 85.0, 0.8, ("nike", "adidas", "puma", "asics")),
    ("apparel.trousers", 40.0, 0.6, ("levis", "wrangler", "lee")),
    ("furniture.living_room.sofa", 450.0, 1.0, ("ikea", "brw", "mebelain")),
    ("furniture.bedroom.bed", 310.0, 0.6, ("ikea", "ormatek", "brw")),
    ("furniture.kitchen.table", 125.0, 0.6, ("ikea", "stolline", "brw")),
    ("kids.toys", 26.0, 1.5, ("lego", "hasbro", "mattel", "polesie")),
    ("kids.carriage", 250.0, 0.5, ("cybex", "tutis", "chicco")),
    ("sport.bicycle", 310.0, 0.8, ("stels", "forward", "merida", "stern")),
    ("auto.accessories.player", 70.0, 0.6, ("pioneer", "sony", "kenwood", "jvc")),
    ("auto.accessories.videoregister", 62.0, 0.6, ("xiaomi", "prology", "neoline")),
    ("construction.tools.drill", 72.0, 1.0, ("bosch", "makita", "dewalt", "metabo")),
    ("construction.tools.saw", 95.0, 0.5, ("bosch", "makita", "stihl")),
    ("accessories.bag", 30.0, 0.8, ("samsonite", "wenger", "xiaomi")),
    ("country_yard.lawn_mower", 210.0, 0.4, ("huter", "champion", "bosch")),
    ("medicine.tools.tonometer", 40.0, 0.4, ("omron", "microlife", "and")),
    ("stationery.cartrige", 21.0, 0.5, ("hp", "canon", "epson")),
)
# Categories that have an id but no code (about 30 % of products in the real file).
_UNCODED_CATEGORIES: tuple[tuple[float, tuple[str, ...]], ...] = (
    (36.0, ("shiseido", "lovely", "runail", "irisk", "grattol")),
    (8.5, ("masura", "kapous", "estel", "bpw.style")),
    (55.0, ("lucente", "karcher", "rondell", "vitek")),
    (140.0, ("elenberg", "redmond", "polaris", "scarlett")),
    (24.0, ("cosmoprofi", "ingarden", "uno", "jessnail")),
    (310.0, ("lg", "samsung", "sony", "philips")),
    (75.0, ("tefal", "bosch", "moulinex")),
    (18.0, ("nika", "cnd", "haruyama")),
    (190.0, ("xiaomi", "huawei", "lenovo")),
    (450.0, ("samsung", "lg", "haier")),
    (12.0, ("freedecor", "milv", "domix")),
    (95.0, ("vitek", "maxwell", "sinbo")),
)
_UNCODED_SHARE = 0.30  # of products in a category without a code
_NO_BRAND_SHARE = 0.14  # of products without a brand
_PRICE_SIGMA = 0.55  # spread of product prices around their category's typical price
_PRICE_LEVEL = 1.15  # moves the median row price to about 160, as in the real file

# ── sessions ─────────────────────────────────────────────────────────────────────────────────
# ── random helpers (everything from Generator.random) ────────────────────────────────────────
def uniform(rng: np.random.Generator, n: int | tuple[int, ...]) -> np.ndarray:
    return rng.random(n)


def exponential(rng: np.random.Generator, mean: float | np.ndarray, n: int) -> np.ndarray:
    return -np.log1p(-uniform(rng, n)) * mean


def normal(rng: np.random.Generator, n: int) -> np.ndarray:
    """Box-Muller, so the stream never depends on numpy's own normal sampler."""
    u1 = uniform(rng, n)
    u2 = uniform(rng, n)
    return np.sqrt(-2.0 * np.log1p(-u1)) * np.cos(2.0 * np.pi * u2)


def pick(rng: np.random.Generator, cumulative: np.ndarray, n: int) -> np.ndarray:
    """Indices drawn with probability proportional to the weights whose running sum is ``cumulative``."""
    hits = np.searchsorted(cumulative, uniform(rng, n) * cumulative[-1], side="right")
    return np.minimum(hits, len(cumulative) - 1)


def unique_ids(rng: np.random.Generator, n: int, low: int, high: int) -> np.ndarray:
    """``n`` distinct integers in [low, high), in random order."""
    ids = np.empty(0, dtype=np.int64)
    while len(ids) < n:
        draw = low + np.floor(uniform(rng, 2 * n + 16) * (high - low)).astype(np.int64)
        merged = np.concatenate([ids, draw])
        _, first = np.unique(merged, return_index=True)
        ids = merged[np.sort(first)]
    return ids[:n]


def stratified_flags(rng: np.random.Generator, order: np.ndarray, share: float, block: int) -> np.ndarray:
    """Flag ``share`` of the items in every block of ``block`` consecutive items of ``order``.

    Used on products sorted by popularity, so the share of *rows* without a brand or category code
    stays close to the contract's figure whatever the seed.
    """
    flags = np.zeros(len(order), dtype=bool)
    per_block = round(share * block)
    for lo in range(0, len(order), block):
        members = order[lo:lo + block]
        take = per_block if len(members) == block else int(math.floor(share * len(members) + uniform(rng, 1)[0]))
        chosen = np.argsort(uniform(rng, len(members)), kind="stable")[:take]
        flags[members[chosen]] = True
    return flags


@dataclass
class Catalog:
    """Products sorted by category, with the text of their five CSV columns pre-joined."""

    category: np.ndarray  # category index per product
    price: np.ndarray  # stable price per product
    popularity_cum: np.ndarray  # running sum of popularity, in product order
    category_range: np.ndarray  # (n_categories, 2): first product, end product
    product_id: list[str]
    block: list[str]  # "product_id,category_id,category_code,brand,price" per product
    block_tail: list[str]  # "category_id,category_code,brand," (for rows whose price or id is dirty)

    @classmethod
    def build(cls, rng: np.random.Generator, *, n_products: int) -> Catalog:
        coded = [(code, price, weight, brands) for code, price, weight, brands in _CATEGORIES]
        uncoded = [(None, price, 1.0, brands) for price, brands in _UNCODED_CATEGORIES]
        cats = coded + uncoded
        n_cat = len(cats)
        cat_ids = [2_053_013_552_000_000_000 + int(hi) * 1_000_000_000 + int(lo) for hi, lo in
                   zip(np.floor(uniform(rng, n_cat) * 170_000_000), np.floor(uniform(rng, n_cat) * 1e9),
                       strict=True)]
        popularity = np.exp(1.0 * normal(rng, n_products))
        order_by_pop = np.argsort(-popularity, kind="stable")
        no_code = stratified_flags(rng, order_by_pop, _UNCODED_SHARE, 10)
        no_brand = stratified_flags(rng, order_by_pop, _NO_BRAND_SHARE, 50)

        coded_w = np.cumsum([w for _, _, w, _ in coded])
        category = np.where(no_code, len(coded) + np.floor(uniform(rng, n_products) * len(uncoded)).astype(int),
                            pick(rng, coded_w, n_products))
        typical = _PRICE_LEVEL * np.array([p for _, p, _, _ in cats])[category]
        price = np.round(np.clip(typical * np.exp(_PRICE_SIGMA * normal(rng, n_products)), 0.77, 9_800.0), 2)
        brand_u = uniform(rng, n_products)
        pids = unique_ids(rng, n_products, 1_000_000, 100_000_000)

        order = np.lexsort((pids, category))  # products grouped by category
        category, price, popularity = category[order], price[order], popularity[order]
        no_brand, brand_u, pids = no_brand[order], brand_u[order], pids[order]
        bounds = np.searchsorted(category, np.arange(n_cat + 1))
        block, tail, product_id = [], [], []
        for i in range(n_products):
            code, _, _, brands = cats[category[i]]
            brand = "" if no_brand[i] else brands[int(brand_u[i] * len(brands))]
            t = f"{cat_ids[category[i]]},{code or ''},{brand},"
            pid = str(int(pids[i]))
            product_id.append(pid)
            tail.append(t)
            block.append(f"{pid},{t}{price[i]:.2f}")
        return cls(category=category, price=price, popularity_cum=np.cumsum(popularity),
                   category_range=np.stack([bounds[:-1], bounds[1:]], axis=1), product_id=product_id,
                   block=block, block_tail=tail)

    def pick_in_category(self, rng: np.random.Generator, cat: np.ndarray) -> np.ndarray:
        """One product per entry of ``cat``, by popularity within that category."""
        lo, hi = self.category_range[cat, 0], self.category_range[cat, 1]
        cum = self.popularity_cum
        below = np.where(lo > 0, cum[np.maximum(lo - 1, 0)], 0.0)
        target = below + uniform(rng, len(cat)) * (cum[hi - 1] - below)
        return np.clip(np.searchsorted(cum, target, side="right"), lo, hi - 1)
