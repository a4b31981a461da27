"""The page's inline style sheet and its small filter script (no CDN, no external file).

Progressive enhancement: without JavaScript every number is on the page (the per-platform and
per-campaign views sit in a collapsed ``<details>`` under each funnel) and the filter bar stays
hidden. The script only shows the bar and toggles ``hidden`` on elements that carry
``data-platform`` / ``data-campaign`` attributes:

- ``.filter-row``: a campaign's row (recommendations, campaign table), shown when it belongs to
  the selected platform and campaign;
- ``.scope``: a funnel view of exactly one scope (every campaign, one platform, one campaign),
  shown when it is the selected one;
- ``.every-only``: figures over every campaign, hidden while a filter is set.

Attribute values are HTML-escaped by the renderer and read back with ``getAttribute``, so a
campaign name never reaches the script as code.
"""

STYLE = """
:root{--ink:#1d2430;--muted:#5b6472;--line:#e3e6ed;--panel:#f6f7fb;--accent:#2f6db5}
*{box-sizing:border-box}
[hidden]{display:none!important}
body{font:14px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Liberation Sans",sans-serif;
margin:0;color:var(--ink);background:#fff}
header.top{background:var(--panel);border-bottom:1px solid var(--line);padding:1.4rem 0 .6rem}
.wrap{max-width:1160px;margin:0 auto;padding:0 1.2rem}
h1{font-size:1.6rem;margin:0 0 .2rem}h2{font-size:1.3rem;margin:2.6rem 0 .6rem;
padding-bottom:.3rem;border-bottom:2px solid var(--line)}
h3{font-size:1.05rem;margin:1.6rem 0 .4rem}h4{font-size:.95rem;margin:1.4rem 0 .3rem}
.muted,small,.note{color:var(--muted)}
dl.facts{display:flex;flex-wrap:wrap;gap:.2rem 1.6rem;margin:.6rem 0}
dl.facts div{display:flex;gap:.4rem}dl.facts dt{color:var(--muted)}dl.facts dd{margin:0;
font-weight:600}
.notice{background:#fff6db;border:1px solid #f0dca0;padding:.5rem .8rem;border-radius:4px}
form.filter{display:flex;flex-wrap:wrap;align-items:center;gap:.6rem 1.2rem;margin:.8rem 0;
padding:.6rem .8rem;background:#fff;border:1px solid var(--line);border-radius:6px}
form.filter label{font-weight:600}form.filter select{margin-left:.4rem;font:inherit;
padding:.2rem .3rem;max-width:22rem}
form.filter button{font:inherit;padding:.2rem .7rem;border:1px solid #c9ced8;border-radius:4px;
background:#fff;cursor:pointer}#filter-status{color:var(--muted)}
nav ul{display:flex;flex-wrap:wrap;gap:.2rem 1.2rem;list-style:none;padding:0;margin:.4rem 0}
nav a{color:var(--accent);text-decoration:none}nav a:hover{text-decoration:underline}
table{border-collapse:collapse;margin:.5rem 0 1rem;font-variant-numeric:tabular-nums}
th,td{padding:.32rem .6rem;border-bottom:1px solid var(--line);text-align:right;
vertical-align:top}
th{background:var(--panel);font-weight:600;font-size:.88rem}
th.text,td.text,th:first-child,td:first-child{text-align:left}
table.wide{width:100%}.table-scroll{overflow-x:auto}
table.campaigns{font-size:.86rem}table.campaigns th,table.campaigns td{padding:.3rem .42rem}
table.campaigns td{white-space:nowrap}
table.campaigns td:first-child{white-space:normal;min-width:10rem;max-width:16rem;
overflow-wrap:anywhere}
table.campaigns tbody{border-top:1px solid #c9ced8}
td.rank{font-weight:700;color:var(--accent);font-size:1.1rem;width:2.2rem}
td.action strong{display:block}td.evidence{max-width:26rem;text-align:left}
.badge{display:inline-block;padding:0 .35rem;border-radius:3px;font-size:.78rem;
background:#eef1f6;color:var(--muted);margin-left:.3rem}
.kpis{display:flex;flex-wrap:wrap;gap:.6rem;margin:.6rem 0 .4rem}
.kpi{background:var(--panel);border:1px solid var(--line);border-radius:6px;
padding:.45rem .8rem;min-width:9.5rem}
.kpi span{display:block;color:var(--muted);font-size:.8rem}.kpi strong{font-size:1.2rem}
.verdict{font-size:1.1rem;font-weight:600;margin:.6rem 0}.verdict.inconclusive{color:#8a5a00}
.analysis{display:flex;flex-wrap:wrap;gap:0 2rem}.analysis>div{flex:1 1 500px}
table.momentum td,table.momentum th,table.stages td,table.weekly td,table.segments td,
table.recommendations td:nth-child(4){white-space:nowrap}
.findings li{margin:.25rem 0}.findings strong{margin-right:.3rem}
svg.chart{max-width:100%;height:auto;display:block;margin:.3rem 0}
svg text{font:12px system-ui,-apple-system,"Segoe UI",Roboto,"Liberation Sans",sans-serif;
fill:var(--ink)}
svg text.tick,svg text.note,svg tspan.note{fill:var(--muted);font-size:11px}
svg text.axis-title{fill:var(--muted);font-size:11.5px;font-weight:600}
svg text.label{font-weight:600}svg text.value{font-weight:600}
svg text.value-sm{font-size:10.5px;fill:#7a3a12}
.scope{border-left:3px solid var(--accent);padding-left:1rem;margin:1rem 0}
.scope-title{margin-top:.4rem}
details.breakdown{margin:1.4rem 0}details.breakdown>summary{cursor:pointer;font-weight:600;
color:var(--accent)}
.filtered details.breakdown>summary,.filtered .every-only{display:none}
.filtered-note{display:none}.filtered .filtered-note{display:block}
footer{margin:3rem 0 2rem;border-top:1px solid var(--line);padding-top:.8rem}
"""

SCRIPT = """
(function () {
  "use strict";
  var ALL = "(all)";
  var form = document.getElementById("filter");
  if (!form) { return; }
  var platforms = document.getElementById("filter-platform");
  var campaigns = document.getElementById("filter-campaign");
  var status = document.getElementById("filter-status");
  function each(root, selector, fn) {
    Array.prototype.forEach.call(root.querySelectorAll(selector), fn);
  }
  function chosen(select) { return select.options[select.selectedIndex]; }
  function apply() {
    var platform = chosen(platforms).getAttribute("data-platform");
    var option = chosen(campaigns);
    if (platform !== ALL && option.getAttribute("data-platform") !== ALL &&
        option.getAttribute("data-platform") !== platform) {
      campaigns.selectedIndex = 0;
      option = chosen(campaigns);
    }
    var campaign = option.getAttribute("data-campaign");
    if (campaign !== ALL) {
      platform = option.getAttribute("data-platform");
      each(platforms, "option", function (o, i) {
        if (o.getAttribute("data-platform") === platform) { platforms.selectedIndex = i; }
      });
    }
    each(campaigns, "option", function (o) {
      var p = o.getAttribute("data-platform");
      o.hidden = platform !== ALL && p !== ALL && p !== platform;
    });
    var filtered = platform !== ALL;
    document.body.classList.toggle("filtered", filtered);
    each(document, ".filter-row", function (el) {
      el.hidden = !((platform === ALL || el.getAttribute("data-platform") === platform) &&
        (campaign === ALL || el.getAttribute("data-campaign") === campaign));
    });
    each(document, ".funnel-section", function (section) {
      var shown = 0;
      each(section, ".scope", function (el) {
        el.hidden = !(el.getAttribute("data-platform") === platform &&
          el.getAttribute("data-campaign") === campaign);
        if (!el.hidden) { shown += 1; }
      });
      each(section, ".no-scope", function (el) { el.hidden = shown > 0; });
      each(section, "details.breakdown", function (el) { el.open = filtered; });
    });
    status.textContent = !filtered ? "Showing every platform and campaign." :
      "Showing " + (campaign === ALL ? "every campaign of " + platform :
        option.textContent) + ".";
  }
  platforms.addEventListener("change", function () { campaigns.selectedIndex = 0; apply(); });
  campaigns.addEventListener("change", apply);
  document.getElementById("filter-reset").addEventListener("click", function () {
    platforms.selectedIndex = 0;
    campaigns.selectedIndex = 0;
    apply();
  });
  form.hidden = false;
  apply();
})();
"""
