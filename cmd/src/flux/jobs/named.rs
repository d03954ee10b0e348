//! The named formats of `flux jobs -o NAME`.

/// `flux jobs` default listing.
pub const DEFAULT: &str = "{id.f58:>12} ?:{queue:<8.8} +:{username:<8} {name:<10.10+} \
{status_abbrev:>2.2} {ntasks:>6} {nnodes:>6h} {contextual_time!F:>8h} {contextual_info}";

/// Named formats, by name.
pub const NAMED: &[(&str, &str)] = &[
    ("default", DEFAULT),
    (
        "cute",
        "{id.f58:>12} ?:{queue:<8.8} +:{username:<8} {name:<10.10+} {status_emoji:>5.5} \
         {ntasks:>6} {nnodes:>6h} {contextual_time!F:>8h} {contextual_info}",
    ),
    (
        "long",
        "{id.f58:>12} ?:{queue:<8.8} +:{username:<8} {name:<10.10+} {status:>9.9} \
         {ntasks:>6} {nnodes:>6h} {t_submit!d:%b%d %R::>12} {t_remaining!F:>12h} \
         {contextual_time!F:>8h} {contextual_info}",
    ),
    (
        "deps",
        "{id.f58:>12} ?:{queue:<8.8} +:{username:<8} {name:<10.10+} {status_abbrev:>2.2} \
         {dependencies:<30.30+} {contextual_info}",
    ),
    (
        "endreason",
        "{id.f58:>12} ?:{queue:<8.8} +:{username:<8} {name:<10.10+} {status_abbrev:>2.2} \
         {t_inactive!d:%b%d %R::>12h} {inactive_reason}",
    ),
];

/// The format text for `-o VALUE`: a named format, or VALUE itself.
pub fn resolve(value: &str) -> &str {
    NAMED
        .iter()
        .find(|(name, _)| *name == value)
        .map_or(value, |(_, fmt)| fmt)
}
