"""The simulated advertiser: accounts, campaigns, ads, site pages and visitor profiles.

Everything here is fixed data, so ids and names stay stable across seeds; the seed only moves
behaviour. Campaign names end in `_micro` (micro-commitment sequence) or `_direct` (big ask).
The advertiser buys traffic on several platforms; each has its own account (currency, time
zone) and mirrors some of the Google campaign names, as advertisers running one concept across
channels do, so the funnels' `campaigns:` lists match every platform's entries.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

SITE = "https://www.northwind-outfitters.example"
HOSTNAME = "www.northwind-outfitters.example"
STREAM_ID = "4178643456"
CUSTOMER_ID = 4851926730
CUSTOMER_NAME = "Northwind Outfitters"
CURRENCY = "USD"  # the site's store currency (GA4 values), and the Google Ads account's


@dataclass(frozen=True)
class Platform:
    """One ad platform account and how its clicks arrive on the site."""

    name: str  # google_ads | meta_ads | tiktok_ads | linkedin_ads | microsoft_ads
    account_id: str
    account_name: str
    currency: str  # ISO 4217: spend, CPCs and conversion values are in this currency
    timezone: str  # IANA: the account's time zone
    day_timezone: str  # where the report's days are cut (see GOOGLE below)
    utm_source: str
    utm_medium: str
    click_id: str  # URL parameter the platform appends to the landing URL
    referrer: str  # document.referrer of a click from the platform
    weight: float  # share of paid journeys when every platform runs
    usd_per_unit: float  # fixed demo rate, only to express site values in the account currency


# Google's report has no time zone column; its days stay UTC as before, so the Google-only
# output is byte-identical to earlier versions of the generator.
GOOGLE = Platform(
    "google_ads",
    str(4851926730),
    "Northwind Outfitters",
    "USD",
    "America/New_York",
    "UTC",
    "google",
    "cpc",
    "gclid",
    "https://www.google.com/",
    0.46,
    1.0,
)
PLATFORMS: tuple[Platform, ...] = (
    GOOGLE,
    Platform("meta_ads", "1029384756102938", "Northwind Outfitters EU", "EUR",
             "Europe/Berlin", "Europe/Berlin", "facebook", "paid_social", "fbclid",
             "https://l.facebook.com/", 0.24, 1.08),
    Platform("tiktok_ads", "7012345678901234567", "Northwind Outfitters TT", "USD", "UTC", "UTC",
             "tiktok", "paid_social", "ttclid", "https://www.tiktok.com/", 0.14, 1.0),
    Platform("linkedin_ads", "508123456", "Northwind Outfitters B2B", "USD", "UTC", "UTC",
             "linkedin", "paid_social", "li_fat_id", "https://www.linkedin.com/", 0.06, 1.0),
    Platform("microsoft_ads", "180234567", "Northwind Outfitters", "USD", "America/New_York",
             "America/New_York", "bing", "cpc", "msclkid", "https://www.bing.com/", 0.10, 1.0),
)  # fmt: skip
PLATFORM_NAMES: tuple[str, ...] = tuple(p.name for p in PLATFORMS)
PLATFORM = {p.name: p for p in PLATFORMS}

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
    platform: str = "google_ads"

    @property
    def is_micro(self) -> bool:
        return self.name.endswith("_micro")

    @property
    def account(self) -> Platform:
        return PLATFORM[self.platform]


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

GOOGLE_CAMPAIGNS = CAMPAIGNS

# The other platforms: ids shaped like each platform's (Meta 17 digits, TikTok 16, LinkedIn and
# Microsoft 9), CPCs in the account currency, lower CTRs on social feeds.
OTHER_CAMPAIGNS: tuple[Campaign, ...] = (
    Campaign(
        23856412345670011, "spring_quiz_micro", "/quiz/find-your-fit", (0.70, 0.52, 0.48, 0.33),
        0.40, 0.62, 0.014, (0.50, 0.25, 0.25), (0.75, 0.10, 0.10, 0.05), (0.25, 0.45, 0.30),
        (0.35, 0.40, 0.25), platform="meta_ads",
    ),
    Campaign(
        23856412345670012, "webinar_video_micro", "/webinar/growth-playbook",
        (0.60, 0.60, 0.42, 0.30), 0.25, 0.85, 0.011, (0.10, 0.35, 0.55),
        (0.15, 0.40, 0.25, 0.20), (0.75, 0.10, 0.15), (0.55, 0.25, 0.20), platform="meta_ads",
    ),
    Campaign(
        23856412345670015, "summer_sale_direct", "/offer/summer-sale", (0.026, 0, 0, 0),
        0.35, 0.48, 0.018, (1.0, 0.0, 0.0), (0.25, 0.25, 0.25, 0.25), (0.34, 0.33, 0.33),
        (0.34, 0.33, 0.33), platform="meta_ads",
    ),
    Campaign(
        1798451230000011, "spring_quiz_micro", "/quiz/find-your-fit", (0.66, 0.48, 0.44, 0.30),
        0.45, 0.45, 0.009, (0.55, 0.30, 0.15), (0.75, 0.10, 0.10, 0.05), (0.30, 0.45, 0.25),
        (0.35, 0.45, 0.20), platform="tiktok_ads",
    ),
    Campaign(
        1798451230000012, "webinar_video_micro", "/webinar/growth-playbook",
        (0.58, 0.58, 0.40, 0.28), 0.25, 0.52, 0.008, (0.15, 0.45, 0.40),
        (0.20, 0.35, 0.30, 0.15), (0.80, 0.10, 0.10), (0.55, 0.25, 0.20), platform="tiktok_ads",
    ),
    Campaign(
        1798451230000015, "summer_sale_direct", "/offer/summer-sale", (0.022, 0, 0, 0),
        0.30, 0.38, 0.012, (1.0, 0.0, 0.0), (0.25, 0.25, 0.25, 0.25), (0.34, 0.33, 0.33),
        (0.34, 0.33, 0.33), platform="tiktok_ads",
    ),
    Campaign(
        612345012, "webinar_video_micro", "/webinar/growth-playbook", (0.68, 0.66, 0.52, 0.38),
        0.55, 6.40, 0.0055, (0.05, 0.30, 0.65), (0.10, 0.40, 0.30, 0.20), (0.70, 0.10, 0.20),
        (0.60, 0.25, 0.15), platform="linkedin_ads",
    ),
    Campaign(
        612345016, "demo_request_direct", "/offer/book-a-demo", (0.072, 0, 0, 0),
        0.45, 7.20, 0.0048, (0.0, 0.0, 1.0), (0.25, 0.25, 0.25, 0.25), (0.34, 0.33, 0.33),
        (0.34, 0.33, 0.33), platform="linkedin_ads",
    ),
    Campaign(
        413927011, "pricing_tour_micro", "/tour", (0.66, 0.50, 0.56, 0.31),
        0.50, 1.15, 0.041, (0.35, 0.45, 0.20), (0.10, 0.45, 0.30, 0.15), (0.20, 0.50, 0.30),
        (0.70, 0.20, 0.10), platform="microsoft_ads",
    ),
    Campaign(
        413927014, "free_trial_direct", "/offer/free-trial", (0.047, 0, 0, 0),
        0.50, 0.95, 0.055, (0.0, 1.0, 0.0), (0.25, 0.25, 0.25, 0.25), (0.34, 0.33, 0.33),
        (0.34, 0.33, 0.33), platform="microsoft_ads",
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
    campaign_index: int  # index into the Lineup's campaigns
    ad_group_id: int  # Meta: ad set, TikTok: ad group, LinkedIn: campaign
    ad_group_name: str
    ad_id: int  # LinkedIn: creative
    intent: float
    campaign: Campaign

    @property
    def ad_name(self) -> str:
        return f"{self.campaign.name} - {self.ad_group_name} - {self.ad_id % 10}"

    @property
    def final_url(self) -> str:
        """Landing URL with the platform's UTMs; utm_id is the platform's campaign id, so
        coalesce(utm_id, utm_campaign) of a landing equals the report's campaign id."""
        c, p = self.campaign, self.campaign.account
        return (
            f"{SITE}{c.landing_path}?utm_source={p.utm_source}&utm_medium={p.utm_medium}"
            f"&utm_campaign={c.name}&utm_id={c.id}"
        )


# (ad group id base, ad id base, step per campaign) of each platform's id ranges.
_ID_BASES = {
    "google_ads": (152_318_000_000, 689_000_000_000, 10),
    "meta_ads": (23_856_412_345_680_000, 23_856_412_345_690_000, 10),
    "tiktok_ads": (1_798_451_240_000_000, 1_798_451_250_000_000, 10),
    "linkedin_ads": (284_512_000, 315_640_000, 10),
    "microsoft_ads": (1_311_823_400_000, 82_024_561_000_000, 10),
}


def _build_ads(campaigns: Sequence[Campaign]) -> tuple[Ad, ...]:
    """Two ad groups per campaign, two ads per group, in campaign order (journeys.py relies on
    ad index = campaign index * 4 + 0..3)."""
    ads = []
    within: dict[str, int] = {}
    for ci, c in enumerate(campaigns):
        k = within.get(c.platform, 0)  # the campaign's position on its platform
        within[c.platform] = k + 1
        group_base, ad_base, step = _ID_BASES[c.platform]
        for gi, (group_name, intent) in enumerate(AD_GROUPS):
            group_id = group_base + k * step + gi + 1
            for ai in range(ADS_PER_GROUP):
                ad_id = ad_base + (k * step + gi) * 100 + ai + 1
                ads.append(Ad(ci, group_id, group_name, ad_id, intent, c))
    return tuple(ads)


ADS: tuple[Ad, ...] = _build_ads(CAMPAIGNS)


@dataclass(frozen=True)
class Lineup:
    """The campaigns and ads one generation runs: those of the platforms asked for."""

    platforms: tuple[Platform, ...]
    campaigns: tuple[Campaign, ...]
    ads: tuple[Ad, ...]
    weights: tuple[float, ...]  # per campaign: share of paid journeys (unnormalized)

    def platform_of_campaign(self) -> list[str]:
        return [c.platform for c in self.campaigns]


def lineup(platforms: Sequence[str] = PLATFORM_NAMES) -> Lineup:
    """Google's campaigns first (in their fixed order), then the others in PLATFORMS order.

    With Google alone the weights are the campaigns' own shares, untouched, so the draws and
    the files are the same as the Google-only generator's.
    """
    unknown = sorted(set(platforms) - set(PLATFORM_NAMES))
    if unknown or not platforms:
        raise ValueError(
            f"ads must be a non-empty list of {', '.join(PLATFORM_NAMES)}; got {list(platforms)}"
        )
    chosen = tuple(p for p in PLATFORMS if p.name in platforms)
    campaigns = tuple(c for c in GOOGLE_CAMPAIGNS + OTHER_CAMPAIGNS if c.platform in platforms)
    weights = tuple(c.share for c in campaigns)
    if len(chosen) > 1:
        total = sum(p.weight for p in chosen)
        per_platform = {
            p.name: sum(c.share for c in campaigns if c.platform == p.name) for p in chosen
        }
        weights = tuple(
            c.share * PLATFORM[c.platform].weight / total / per_platform[c.platform]
            for c in campaigns
        )
    return Lineup(chosen, campaigns, _build_ads(campaigns), weights)


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
