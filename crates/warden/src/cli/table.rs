//! Aligned text tables for the terminal.

/// Renders rows under a header, each column as wide as its widest cell; counts and durations align right.
pub(crate) fn render(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|cell| cell.chars().count()).collect();
    for row in rows {
        for (index, cell) in row.iter().enumerate() {
            if let Some(width) = widths.get_mut(index) {
                *width = (*width).max(cell.chars().count());
            }
        }
    }
    let line = |cells: Vec<&str>| {
        let padded: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(cell, width)| {
                let numeric =
                    !cell.is_empty() && cell.chars().all(|c| c.is_ascii_digit() || matches!(c, '.' | '+' | '-'));
                if numeric { format!("{cell:>width$}") } else { format!("{cell:<width$}") }
            })
            .collect();
        padded.join("  ").trim_end().to_owned()
    };
    let mut out = line(header.to_vec());
    out.push('\n');
    for row in rows {
        out.push_str(&line(row.iter().map(String::as_str).collect()));
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_align_and_numbers_go_right() {
        let rows = vec![vec!["prod".to_owned(), "1210".to_owned()], vec!["staging-eu".to_owned(), "7".to_owned()]];
        assert_eq!(
            render(&["environment", "users"], &rows),
            "environment  users\nprod          1210\nstaging-eu       7\n"
        );
    }
}
