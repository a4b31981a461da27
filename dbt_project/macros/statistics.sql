{#
  Statistics for the comparison marts (agg_sequence_comparison, agg_funnel_diagnostics).
  DuckDB has no erf, so the normal distribution is computed here; arguments are expressions
  (pass column names: they are repeated in the generated SQL). The Python reference
  (tests/reference/comparison_marts.py) uses math.erfc and math.sqrt on the same formulas.
#}

{# z of a two-sided 95% interval: the 0.975 quantile of the standard normal. #}
{% macro z_95() -%}
    1.959963984540054e0
{%- endmacro %}


{#
  Upper tail Q(a) = P(Z > a) of the standard normal for a >= 0: Hart (1968) algorithm 5666 as
  given by G. West, "Better approximations to cumulative normal functions" (Wilmott, 2005), a
  rational approximation from W. J. Cody's erfc coefficients plus a continued fraction beyond
  a = 7.07. Accuracy: absolute error < 1e-15 (measured 2.3e-16 over [0, 40] against Python's
  math.erfc), relative error < 1e-8; 0 beyond a = 37, where Q < 1e-299.
#}
{% macro normal_upper_tail(a) -%}
    case
        when {{ a }} > 37 then 0.0
        when {{ a }} < 7.07106781186547
            then exp(-{{ a }} * {{ a }} / 2.0)
            * (((((((0.0352624965998911 * {{ a }} + 0.700383064443688) * {{ a }}
            + 6.37396220353165) * {{ a }} + 33.912866078383) * {{ a }}
            + 112.079291497871) * {{ a }} + 221.213596169931) * {{ a }}
            + 220.206867912376))
            / ((((((((0.0883883476483184 * {{ a }} + 1.75566716318264) * {{ a }}
            + 16.064177579207) * {{ a }} + 86.7807322029461) * {{ a }}
            + 296.564248779674) * {{ a }} + 637.333633378831) * {{ a }}
            + 793.826512519948) * {{ a }} + 440.413735824752))
        else exp(-{{ a }} * {{ a }} / 2.0)
            / ({{ a }} + 1.0 / ({{ a }} + 2.0 / ({{ a }} + 3.0 / ({{ a }} + 4.0 / ({{ a }} + 0.65)))))
            / 2.506628274631
    end
{%- endmacro %}


{# Standard normal CDF P(Z <= x), from the upper tail (same accuracy). #}
{% macro normal_cdf(x) -%}
    case
        when {{ x }} > 0 then 1.0 - ({{ normal_upper_tail('abs(' ~ x ~ ')') }})
        else ({{ normal_upper_tail('abs(' ~ x ~ ')') }})
    end
{%- endmacro %}


{# Two-sided p-value of a z statistic: 2 * Q(|z|); null when z is null. #}
{% macro two_sided_p_value(z) -%}
    (2.0 * ({{ normal_upper_tail('abs(' ~ z ~ ')') }}))
{%- endmacro %}


{#
  Wilson score interval of `successes` out of `trials` (z = 1.96 by default): center
  (p + z^2/2n) / (1 + z^2/n), half-width z / (1 + z^2/n) * sqrt(p(1-p)/n + z^2/4n^2), clipped
  to [0, 1] (rounding can leave -1e-17 when p = 0); null when trials = 0.
#}
{% macro wilson_low(successes, trials, z=none) -%}
    {%- set z = z if z is not none else z_95() -%}
    case
        when {{ trials }} > 0 then greatest(0.0,
            (cast({{ successes }} as double) / {{ trials }} + {{ z }} * {{ z }} / (2.0 * {{ trials }}))
            / (1.0 + {{ z }} * {{ z }} / {{ trials }})
            - {{ z }} / (1.0 + {{ z }} * {{ z }} / {{ trials }}) * sqrt(
                (cast({{ successes }} as double) / {{ trials }}) * (1.0 - cast({{ successes }} as double) / {{ trials }})
                / {{ trials }}
                + {{ z }} * {{ z }} / (4.0 * {{ trials }} * {{ trials }})
            ))
    end
{%- endmacro %}

{% macro wilson_high(successes, trials, z=none) -%}
    {%- set z = z if z is not none else z_95() -%}
    case
        when {{ trials }} > 0 then least(1.0,
            (cast({{ successes }} as double) / {{ trials }} + {{ z }} * {{ z }} / (2.0 * {{ trials }}))
            / (1.0 + {{ z }} * {{ z }} / {{ trials }})
            + {{ z }} / (1.0 + {{ z }} * {{ z }} / {{ trials }}) * sqrt(
                (cast({{ successes }} as double) / {{ trials }}) * (1.0 - cast({{ successes }} as double) / {{ trials }})
                / {{ trials }}
                + {{ z }} * {{ z }} / (4.0 * {{ trials }} * {{ trials }})
            ))
    end
{%- endmacro %}


{#
  Pooled two-proportion z statistic of rate 1 minus rate 2: (p1 - p2) / sqrt(p(1-p)(1/n1 +
  1/n2)) with p = (x1 + x2) / (n1 + n2). Null when a side has no trials or p is 0 or 1 (no
  variance: both rates are equal).
#}
{% macro two_proportion_z(x1, n1, x2, n2) -%}
    case
        when
            {{ n1 }} > 0 and {{ n2 }} > 0
            and ({{ x1 }} + {{ x2 }}) > 0 and ({{ x1 }} + {{ x2 }}) < ({{ n1 }} + {{ n2 }})
            then (cast({{ x1 }} as double) / {{ n1 }} - cast({{ x2 }} as double) / {{ n2 }}) / sqrt(
                (cast(({{ x1 }} + {{ x2 }}) as double) / ({{ n1 }} + {{ n2 }}))
                * (1.0 - cast(({{ x1 }} + {{ x2 }}) as double) / ({{ n1 }} + {{ n2 }}))
                * (1.0 / {{ n1 }} + 1.0 / {{ n2 }})
            )
    end
{%- endmacro %}


{# --- plain-words formatting shared by the verdict and evidence texts --------------------- #}

{# A rate as a percentage with one decimal: 0.0412 -> '4.1%'. #}
{% macro percent_text(rate) -%}
    {{ format_number("'%.1f%%'", '100.0 * ' ~ rate) }}
{%- endmacro %}

{# A count with thousands separators: 4120 -> '4,120'. #}
{% macro count_text(n) -%}
    {{ return(adapter.dispatch('count_text', 'microfunnel')(n)) }}
{%- endmacro %}

{% macro default__count_text(n) -%}
    format_number(cast({{ n }} as bigint), 0)
{%- endmacro %}

{% macro duckdb__count_text(n) -%}
    format('{:,}', cast({{ n }} as bigint))
{%- endmacro %}

{# A p-value: '< 0.001', three decimals below 0.1, else two ('0.012', '0.21'). #}
{% macro p_value_text(p) -%}
    case
        when {{ p }} < 0.001 then 'p < 0.001'
        when {{ p }} < 0.1 then {{ format_number("'p = %.3f'", p) }}
        else {{ format_number("'p = %.2f'", p) }}
    end
{%- endmacro %}

{# A duration in seconds: '45 s', '12.5 min', '2.5 h', '1.2 d'. #}
{% macro duration_text(seconds) -%}
    case
        when {{ seconds }} < 60 then {{ format_number("'%.0f s'", seconds) }}
        when {{ seconds }} < 3600 then {{ format_number("'%.1f min'", seconds ~ ' / 60.0') }}
        when {{ seconds }} < 86400 then {{ format_number("'%.1f h'", seconds ~ ' / 3600.0') }}
        else {{ format_number("'%.1f d'", seconds ~ ' / 86400.0') }}
    end
{%- endmacro %}
