//! Numbered statement parameters (`$1, $2, …`, which both backends take
//! through sqlx's `Any` driver) for statements over many rows at once.

/// `($1, …, $c), ($c+1, …, $2c), …` for `rows` rows of `columns` values.
pub(super) fn values_rows(rows: usize, columns: usize) -> String {
    (0..rows)
        .map(|row| format!("({})", numbered(row * columns + 1, columns)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `$1, $2, …, $n`, for `IN (…)` lists.
pub(super) fn in_list(n: usize) -> String {
    numbered(1, n)
}

fn numbered(first: usize, count: usize) -> String {
    (first..first + count)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_and_lists_are_numbered_from_one() {
        assert_eq!(values_rows(2, 3), "($1, $2, $3), ($4, $5, $6)");
        assert_eq!(values_rows(1, 1), "($1)");
        assert_eq!(in_list(3), "$1, $2, $3");
        assert_eq!(in_list(0), "");
    }
}
