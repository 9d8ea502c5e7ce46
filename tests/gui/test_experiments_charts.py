"""The sweep charts' legend: every line told apart, by colour and by dash."""


def test_the_legend_tells_allocators_of_one_shade_apart_by_their_dash():
    """malloc and tcmalloc share the allocator family's first shade: the legend
    showed the same dot in the same colour for both."""
    import re

    from engine import Strategy
    from gui.experiments_charts import DASH_SAMPLES, legend_html
    from gui.experiments_setup import Series
    from gui.palette import colour_for

    names = ["malloc", "mimalloc", "jemalloc", "tcmalloc"]
    series = [Series(Strategy[n.upper()], n) for n in names]
    entries = re.findall(
        r'<span style="color:([^"]+)">(.*?)&nbsp;(\w+)</span>', legend_html(series, False)
    )
    assert [name for _, _, name in entries] == names
    looks = [(colour, sample) for colour, sample, _ in entries]
    assert len(set(looks)) == 4  # no two entries alike
    assert looks[0][0] == looks[3][0]  # the shade malloc and tcmalloc share...
    assert looks[0][1] != looks[3][1]  # ...and the dash that tells them apart
    for (colour, sample), name in zip(looks, names, strict=True):
        look = colour_for(name)
        assert colour == look.colour and sample == DASH_SAMPLES[look.dash] + "&#9679;"
    # Categories are not joined by lines: then the marker alone.
    plain = legend_html(series, False, lines=False)
    assert all(s == "&#9679;" for _, s, _ in re.findall(r'color:([^"]+)">(.*?)&nbsp;(\w+)<', plain))


def test_nine_strategies_fit_the_export_width_in_several_lines(qapp):
    """In one line the report's legend ran off both edges of its 1200 px chart."""
    from engine import Strategy
    from gui.experiments_charts import legend_html
    from gui.experiments_setup import Series
    from gui.text_fit import html_width

    names = ["single", "baseline", "pooled", "sizeclass", "batched"]
    names += ["malloc", "mimalloc", "jemalloc", "tcmalloc"]
    series = [Series(Strategy[n.upper()], n, locks=[0] if n == "single" else [1]) for n in names]
    lines = legend_html(series, True, width=1150.0).split("<br>")
    assert len(lines) == 2
    assert all(html_width(line, 11.0) <= 1150.0 for line in lines)
    assert "(0 locks: off the log axis)" in lines[0]
    assert all(name in "".join(lines) for name in names)
