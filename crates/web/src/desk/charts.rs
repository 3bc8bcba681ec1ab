//! The Analitik page's charts, drawn on the server as SVG: lines over time, horizontal bars, and
//! the cohort heat map. A small writer of our own rather than `plotters` or `charts-rs`: those
//! draw at a fixed pixel size with their own number formats and fonts, where these charts must
//! scale to a 360 px phone by their `viewBox`, label numbers the Indonesian way (1.234; 12,5%),
//! carry a `<title>` and a text table beside them for screen readers, and stay a few hundred
//! bytes each. Every text drawn is escaped.

use std::fmt::Write;

/// Width and height of a line chart's drawing, in its own units.
/// (Small, so that the text stays readable when a phone scales the drawing down to 330 px; the
/// stylesheet caps how far a wide screen scales it up.)
const W: f64 = 440.0;
const H: f64 = 200.0;
/// Room for the axis labels.
const LEFT: f64 = 46.0;
const BOTTOM: f64 = 24.0;
const TOP: f64 = 10.0;
const RIGHT: f64 = 10.0;
/// Text sizes, in the drawing's units.
const TEXT: f64 = 14.0;
const SMALL: f64 = 13.0;

/// The colours of the series, in order (they read apart for the common colour blindnesses).
pub(crate) const COLOURS: [&str; 4] = ["#1d4ed8", "#15803d", "#b91c1c", "#a16207"];

pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A whole number with `.` between thousands: 1.234.567.
pub(crate) fn thousands(n: i64) -> String {
    lunas_core::messages::format_number(n)
}

/// A share 0..1 as a percentage with a decimal comma: 12,5%.
pub(crate) fn percent(share: f64) -> String {
    let tenths = (share * 1000.0).round() as i64;
    if tenths % 10 == 0 {
        format!("{}%", tenths / 10)
    } else {
        format!("{},{}%", tenths / 10, tenths % 10)
    }
}

/// A round upper bound for an axis (1, 2 or 5 × a power of ten), at least `max`.
fn nice_top(max: f64) -> f64 {
    if max <= 0.0 {
        return 1.0;
    }
    let power = 10f64.powf(max.log10().floor());
    for step in [1.0, 2.0, 5.0, 10.0] {
        if step * power >= max {
            return step * power;
        }
    }
    10.0 * power
}

/// One line of a line chart.
pub(crate) struct Line<'a> {
    pub name: &'a str,
    pub values: Vec<f64>,
}

/// Lines over the same x labels (days or months), with a legend; `title` is read by screen
/// readers. Only some x labels are written, so they never overlap.
pub(crate) fn lines(title: &str, x_labels: &[String], lines: &[Line<'_>]) -> String {
    let n = x_labels.len().max(1);
    let max = lines
        .iter()
        .flat_map(|l| l.values.iter().copied())
        .fold(0.0, f64::max);
    let top = nice_top(max);
    let plot_w = W - LEFT - RIGHT;
    let plot_h = H - TOP - BOTTOM;
    let x = |i: usize| {
        if n == 1 {
            LEFT + plot_w / 2.0
        } else {
            LEFT + plot_w * i as f64 / (n - 1) as f64
        }
    };
    let y = |v: f64| TOP + plot_h * (1.0 - v / top);
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg class="chart" viewBox="0 0 {W} {}" role="img" aria-label="{t}" xmlns="http://www.w3.org/2000/svg"><title>{t}</title>"#,
        H + 8.0 + 20.0 * lines.len() as f64,
        t = escape(title)
    );
    for k in 0..=4 {
        let v = top * k as f64 / 4.0;
        let _ = write!(
            svg,
            r##"<line x1="{LEFT}" x2="{}" y1="{y:.1}" y2="{y:.1}" stroke="#d4d4d8" stroke-width="1"/><text x="{}" y="{:.1}" text-anchor="end" font-size="{SMALL}" fill="#3f3f46">{}</text>"##,
            W - RIGHT,
            LEFT - 6.0,
            y(v) + 4.0,
            thousands(v.round() as i64),
            y = y(v),
        );
    }
    // At most four x labels, the first and last inside the drawing.
    let every = n.div_ceil(4);
    for (i, label) in x_labels.iter().enumerate() {
        if i % every == 0 {
            let anchor = if i == 0 && n > 1 {
                "start"
            } else if i + 1 == n && n > 1 {
                "end"
            } else {
                "middle"
            };
            let _ = write!(
                svg,
                r##"<text x="{:.1}" y="{}" text-anchor="{anchor}" font-size="{SMALL}" fill="#3f3f46">{}</text>"##,
                x(i),
                H - 6.0,
                escape(label)
            );
        }
    }
    for (k, line) in lines.iter().enumerate() {
        let colour = COLOURS[k % COLOURS.len()];
        let points: Vec<String> = line
            .values
            .iter()
            .enumerate()
            .map(|(i, &v)| format!("{:.1},{:.1}", x(i), y(v)))
            .collect();
        if points.len() == 1 {
            let _ = write!(
                svg,
                r#"<circle cx="{:.1}" cy="{:.1}" r="4" fill="{colour}"/>"#,
                x(0),
                y(line.values[0])
            );
        } else {
            let _ = write!(
                svg,
                r#"<polyline fill="none" stroke="{colour}" stroke-width="2.5" stroke-linejoin="round" points="{}"/>"#,
                points.join(" ")
            );
        }
        // The legend, one entry a line under the drawing.
        let ly = H + 16.0 + 20.0 * k as f64;
        let _ = write!(
            svg,
            r##"<rect x="{LEFT}" y="{}" width="16" height="5" fill="{colour}"/><text x="{}" y="{ly}" font-size="{TEXT}" fill="#18181b">{}</text>"##,
            ly - 6.0,
            LEFT + 22.0,
            escape(line.name)
        );
    }
    svg.push_str("</svg>");
    svg
}

/// Horizontal bars, one per row, each with its label and its value written.
pub(crate) fn bars(title: &str, rows: &[(String, f64, String)]) -> String {
    let row_h = 26.0;
    let label_w = 120.0;
    let height = row_h * rows.len().max(1) as f64 + 8.0;
    let max = rows.iter().map(|r| r.1).fold(0.0, f64::max).max(1e-9);
    let bar_w = W - label_w - 60.0;
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg class="chart" viewBox="0 0 {W} {height}" role="img" aria-label="{t}" xmlns="http://www.w3.org/2000/svg"><title>{t}</title>"#,
        t = escape(title)
    );
    for (i, (label, value, shown)) in rows.iter().enumerate() {
        let top = 4.0 + row_h * i as f64;
        let w = (bar_w * value / max).max(if *value > 0.0 { 2.0 } else { 0.0 });
        let _ = write!(
            svg,
            r##"<text x="{}" y="{}" text-anchor="end" font-size="{TEXT}" fill="#18181b">{}</text><rect x="{label_w}" y="{}" width="{w:.1}" height="{}" rx="3" fill="{}"/><text x="{:.1}" y="{}" font-size="{TEXT}" fill="#18181b">{}</text>"##,
            label_w - 8.0,
            top + 17.0,
            escape(label),
            top + 4.0,
            row_h - 8.0,
            COLOURS[0],
            label_w + w + 6.0,
            top + 17.0,
            escape(shown)
        );
    }
    svg.push_str("</svg>");
    svg
}

/// The cohort heat map: a row per cohort (its label and size), a cell per month after, darker
/// for a larger share; the share is written in each cell.
pub(crate) fn heat_map(
    title: &str,
    month_header: &str,
    rows: &[(String, u64, Vec<f64>)],
) -> String {
    let columns = rows.iter().map(|r| r.2.len()).max().unwrap_or(0).max(1);
    let label_w = 110.0;
    // Wider than the other charts: it is scrolled sideways on a phone, not scaled down.
    let width = 660.0;
    let cell_w = ((width - label_w) / columns as f64).floor();
    let cell_h = 24.0;
    let height = cell_h * (rows.len() + 1) as f64 + 4.0;
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg class="chart" viewBox="0 0 {width} {height}" role="img" aria-label="{t}" xmlns="http://www.w3.org/2000/svg"><title>{t}</title>"#,
        t = escape(title)
    );
    for m in 0..columns {
        let _ = write!(
            svg,
            r##"<text x="{:.1}" y="16" text-anchor="middle" font-size="12" fill="#3f3f46">{}{m}</text>"##,
            label_w + cell_w * (m as f64 + 0.5),
            escape(month_header)
        );
    }
    for (i, (label, buyers, retention)) in rows.iter().enumerate() {
        let top = cell_h * (i + 1) as f64;
        let _ = write!(
            svg,
            r##"<text x="{}" y="{}" text-anchor="end" font-size="12" fill="#18181b">{} ({})</text>"##,
            label_w - 6.0,
            top + 16.0,
            escape(label),
            thousands(*buyers as i64)
        );
        for (m, share) in retention.iter().enumerate() {
            // Lightness from 96% (none) to 30% (all), one hue.
            let lightness = 96.0 - 66.0 * share.clamp(0.0, 1.0);
            let ink = if lightness < 60.0 {
                "#ffffff"
            } else {
                "#18181b"
            };
            let _ = write!(
                svg,
                r##"<rect x="{:.1}" y="{top}" width="{:.1}" height="{}" fill="hsl(221 70% {lightness:.0}%)"/><text x="{:.1}" y="{}" text-anchor="middle" font-size="11" fill="{ink}">{}</text>"##,
                label_w + cell_w * m as f64,
                cell_w - 1.0,
                cell_h - 1.0,
                label_w + cell_w * (m as f64 + 0.5),
                top + 16.0,
                if *buyers == 0 {
                    String::new()
                } else {
                    percent(*share)
                }
            );
        }
    }
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_written_the_indonesian_way() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_234_567), "1.234.567");
        assert_eq!(thousands(-45_000), "-45.000");
        assert_eq!(percent(0.125), "12,5%");
        assert_eq!(percent(1.0), "100%");
        assert_eq!(percent(0.0), "0%");
    }

    #[test]
    fn axes_end_on_round_numbers() {
        assert_eq!(nice_top(0.0), 1.0);
        assert_eq!(nice_top(7.0), 10.0);
        assert_eq!(nice_top(13.0), 20.0);
        assert_eq!(nice_top(420.0), 500.0);
        assert_eq!(nice_top(1000.0), 1000.0);
    }

    #[test]
    fn text_in_a_chart_is_escaped() {
        let svg = bars("<judul>", &[("<script>".into(), 1.0, "1".into())]);
        assert!(!svg.contains("<script>"));
        assert!(svg.contains("&lt;script&gt;"));
        let svg = lines(
            "t",
            &["a\"b".into()],
            &[Line {
                name: "x&y",
                values: vec![3.0],
            }],
        );
        assert!(svg.contains("a&quot;b") && svg.contains("x&amp;y"));
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
    }
}
