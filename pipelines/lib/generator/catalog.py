"""The simulated advertiser: account, campaigns, ads, site pages and visitor profiles.

Everything here is fixed data, so ids and names stay stable across seeds; the seed only moves
behaviour. Campaign names end in `_micro` (micro-commitment sequence) or `_direct` (big ask).
"""

from __future__ import annotations

from dataclasses import dataclass

SITE = "https://www.northwind-outfitters.example"
HOSTNAME = "www.northwind-outfitters.example"
STREAM_ID = "4178643456"
CUSTOMER_ID = 4851926730
CUSTOMER_NAME = "Northwind Outfitters"
CURRENCY = "USD"

# Conversion kinds, in the column order of Campaign.conversion_mix.
PURCHASE, SIGN_UP, LEAD = 0, 1, 2


@dataclass(frozen=True)
class Campaign:
    id: int
    name: str
    landing_path: str
    # micro: probability of continuing from stage k to k+1 (k = 1..4).
    # direct: index 0 is the chance to convert, the rest unused.
    continuation: tuple[float, float, float, float]
    share: float  # share of paid journeys
    cpc: float  # average cost per click, account currency
    ctr: float
    conversion_mix: tuple[float, float, float]  # purchase, sign_up, generate_lead
    first_action_mix: tuple[float, float, float, float]  # quiz, click, scroll, select_content
    engagement_mix: tuple[float, float, float]  # video, view_item, long read
    reinforcement_mix: tuple[float, float, float]  # pricing page, item list, wishlist
    tracking_url_template: str = ""

    @property
    def is_micro(self) -> bool:
        return self.name.endswith("_micro")


CAMPAIGNS: tuple[Campaign, ...] = (
    Campaign(
        21543870011, "spring_quiz_micro", "/quiz/find-your-fit", (0.74, 0.56, 0.52, 0.36),
        0.22, 1.45, 0.052, (0.45, 0.25, 0.30), (0.70, 0.10, 0.10, 0.10), (0.25, 0.45, 0.30),
        (0.40, 0.35, 0.25), "{lpurl}",
    ),
    Campaign(
        21543870012, "webinar_video_micro", "/webinar/growth-playbook", (0.62, 0.64, 0.46, 0.32),
        0.18, 1.95, 0.038, (0.10, 0.35, 0.55), (0.15, 0.40, 0.25, 0.20), (0.70, 0.10, 0.20),
        (0.55, 0.25, 0.20), "{lpurl}",
    ),
    Campaign(
        21543870013, "pricing_tour_micro", "/tour", (0.66, 0.50, 0.58, 0.30),
        0.15, 1.70, 0.044, (0.35, 0.45, 0.20), (0.10, 0.45, 0.30, 0.15), (0.20, 0.50, 0.30),
        (0.70, 0.20, 0.10),
    ),
    Campaign(
        21543870014, "free_trial_direct", "/offer/free-trial", (0.045, 0, 0, 0),
        0.20, 1.25, 0.061, (0.0, 1.0, 0.0), (0.25, 0.25, 0.25, 0.25), (0.34, 0.33, 0.33),
        (0.34, 0.33, 0.33), "{lpurl}",
    ),
    Campaign(
        21543870015, "summer_sale_direct", "/offer/summer-sale", (0.032, 0, 0, 0),
        0.15, 1.10, 0.071, (1.0, 0.0, 0.0), (0.25, 0.25, 0.25, 0.25), (0.34, 0.33, 0.33),
        (0.34, 0.33, 0.33),
    ),
    Campaign(
        21543870016, "demo_request_direct", "/offer/book-a-demo", (0.058, 0, 0, 0),
        0.10, 2.80, 0.034, (0.0, 0.0, 1.0), (0.25, 0.25, 0.25, 0.25), (0.34, 0.33, 0.33),
        (0.34, 0.33, 0.33), "{lpurl}",
    ),
)  # fmt: skip

# Organic and direct visitors follow the micro path with their own, lower rates.
ORGANIC_CONTINUATION = (0.45, 0.42, 0.38, 0.22)
ORGANIC_MIX = dict(
    conversion=(0.30, 0.40, 0.30),
    first_action=(0.25, 0.25, 0.30, 0.20),
    engagement=(0.30, 0.40, 0.30),
    reinforcement=(0.40, 0.35, 0.25),
)
PAID_SHARE = 0.72

# Two ad groups per campaign, two ads per group. Ad group intent scales how far people go.
AD_GROUPS = (("Broad - awareness", 0.85), ("High intent - solution", 1.20))
ADS_PER_GROUP = 2


@dataclass(frozen=True)
class Ad:
    campaign_index: int
    ad_group_id: int
    ad_group_name: str
    ad_id: int
    intent: float

    @property
    def campaign(self) -> Campaign:
        return CAMPAIGNS[self.campaign_index]

    @property
    def final_url(self) -> str:
        c = self.campaign
        return (
            f"{SITE}{c.landing_path}?utm_source=google&utm_medium=cpc"
            f"&utm_campaign={c.name}&utm_id={c.id}"
        )


def _build_ads() -> tuple[Ad, ...]:
    ads = []
    for ci in range(len(CAMPAIGNS)):
        for gi, (group_name, intent) in enumerate(AD_GROUPS):
            group_id = 152_318_000_000 + ci * 10 + gi + 1
            for ai in range(ADS_PER_GROUP):
                ad_id = 689_000_000_000 + (ci * 10 + gi) * 100 + ai + 1
                ads.append(Ad(ci, group_id, group_name, ad_id, intent))
    return tuple(ads)


ADS: tuple[Ad, ...] = _build_ads()

# Site pages: path and title. Step templates refer to them by path.
PAGES: tuple[tuple[str, str], ...] = (
    ("/", "Northwind Outfitters | Gear for every trail"),
    ("/blog/how-to-choose-a-backpack", "How to choose a backpack | Northwind Journal"),
    ("/quiz/find-your-fit", "Find your fit quiz | Northwind Outfitters"),
    ("/webinar/growth-playbook", "Trail-ready in 30 days (free video) | Northwind Outfitters"),
    ("/tour", "Take the tour | Northwind Outfitters"),
    ("/offer/free-trial", "Start your free trial | Northwind Club"),
    ("/offer/summer-sale", "Summer sale: 30% off | Northwind Outfitters"),
    ("/offer/book-a-demo", "Book a fitting | Northwind Outfitters"),
    ("/products/trail-pack-28", "Trail Pack 28L | Northwind Outfitters"),
    ("/products/summit-jacket", "Summit Jacket | Northwind Outfitters"),
    ("/products", "All products | Northwind Outfitters"),
    ("/pricing", "Plans and pricing | Northwind Club"),
    ("/checkout", "Checkout | Northwind Outfitters"),
    ("/signup", "Create your account | Northwind Club"),
)
PAGE_INDEX = {path: i for i, (path, _) in enumerate(PAGES)}
ORGANIC_LANDING_PATHS = ("/", "/blog/how-to-choose-a-backpack", "/quiz/find-your-fit", "/products")
ORGANIC_LANDING_WEIGHTS = (0.45, 0.25, 0.15, 0.15)

# (item_id, item_name, item_category, price); the product page shown for view_item.
PRODUCTS: tuple[tuple[str, str, str, float, str], ...] = (
    ("SKU_1028", "Trail Pack 28L", "Backpacks", 129.0, "/products/trail-pack-28"),
    ("SKU_2040", "Summit Jacket", "Jackets", 219.0, "/products/summit-jacket"),
)
LEAD_VALUE = 25.0
SIGN_UP_PLATFORM_VALUE = 10.0  # what Google Ads is told a sign-up is worth

# Visitor profiles: (weight, device record fields). Order follows the GA4 `device` record.
DEVICES: tuple[tuple[float, dict[str, object]], ...] = (
    (0.30, dict(category="desktop", mobile_brand_name="Google", mobile_model_name="Chrome",
                operating_system="Windows", operating_system_version="Windows 10",
                browser="Chrome", browser_version="120.0.6099.130")),
    (0.14, dict(category="desktop", mobile_brand_name="Apple", mobile_model_name="Safari",
                operating_system="Macintosh", operating_system_version="Macintosh Intel 10.15",
                browser="Safari", browser_version="17.2")),
    (0.30, dict(category="mobile", mobile_brand_name="Apple", mobile_model_name="iPhone",
                operating_system="iOS", operating_system_version="iOS 17.2.1",
                browser="Safari", browser_version="17.2")),
    (0.20, dict(category="mobile", mobile_brand_name="Samsung", mobile_model_name="SM-S911B",
                operating_system="Android", operating_system_version="Android 14",
                browser="Chrome", browser_version="120.0.6099.144")),
    (0.06, dict(category="tablet", mobile_brand_name="Apple", mobile_model_name="iPad",
                operating_system="iOS", operating_system_version="iOS 16.7.2",
                browser="Safari", browser_version="16.6")),
)  # fmt: skip

# (weight, city, country, continent, region, sub_continent, metro)
GEOS: tuple[tuple[float, str, str, str, str, str, str], ...] = (
    (0.16, "New York", "United States", "Americas", "New York", "Northern America",
     "New York NY"),
    (0.12, "Los Angeles", "United States", "Americas", "California", "Northern America",
     "Los Angeles CA"),
    (0.10, "Chicago", "United States", "Americas", "Illinois", "Northern America",
     "Chicago IL"),
    (0.10, "Denver", "United States", "Americas", "Colorado", "Northern America", "Denver CO"),
    (0.10, "Seattle", "United States", "Americas", "Washington", "Northern America",
     "Seattle-Tacoma WA"),
    (0.12, "Toronto", "Canada", "Americas", "Ontario", "Northern America", "(not set)"),
    (0.12, "London", "United Kingdom", "Europe", "England", "Northern Europe", "(not set)"),
    (0.08, "Sydney", "Australia", "Oceania", "New South Wales", "Australasia", "(not set)"),
    (0.10, "(not set)", "United States", "Americas", "(not set)", "Northern America",
     "(not set)"),
)  # fmt: skip

# Where unpaid visitors come from: (weight, traffic_source name, medium, source, referrer).
ORGANIC_SOURCES: tuple[tuple[float, str, str, str, str | None], ...] = (
    (0.55, "(organic)", "organic", "google", "https://www.google.com/"),
    (0.30, "(direct)", "(none)", "(direct)", None),
    (0.15, "(referral)", "referral", "reddit.com", "https://www.reddit.com/"),
)
