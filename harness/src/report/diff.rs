//! A small line diff (longest common subsequence) printed as a unified diff with context.

/// Above this many line pairs the diff gives up on alignment and shows both sides whole.
const MAX_CELLS: usize = 4_000_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Same,
    Del,
    Add,
}

/// A unified diff of `a` and `b` (`---`/`+++` headers named `name_a`/`name_b`, `@@` hunks
/// with `context` lines around each change); empty when the texts are equal.
pub fn unified(a: &str, b: &str, name_a: &str, name_b: &str, context: usize) -> String {
    if a == b {
        return String::new();
    }
    let la: Vec<&str> = a.lines().collect();
    let lb: Vec<&str> = b.lines().collect();
    let ops = align(&la, &lb);
    // Positions (index into ops) that are changes; hunks gather changes closer than
    // 2 * context lines.
    let changed: Vec<usize> = ops
        .iter()
        .enumerate()
        .filter(|(_, (op, _))| *op != Op::Same)
        .map(|(i, _)| i)
        .collect();
    let mut out = format!("--- {name_a}\n+++ {name_b}\n");
    let mut i = 0;
    while i < changed.len() {
        let start = changed[i].saturating_sub(context);
        let mut end = changed[i];
        while i < changed.len() && changed[i] <= end + 2 * context {
            end = changed[i];
            i += 1;
        }
        let end = (end + context + 1).min(ops.len());
        let (mut a_start, mut b_start) = (0, 0);
        for (op, _) in &ops[..start] {
            match op {
                Op::Same => {
                    a_start += 1;
                    b_start += 1;
                }
                Op::Del => a_start += 1,
                Op::Add => b_start += 1,
            }
        }
        let a_len = ops[start..end]
            .iter()
            .filter(|(o, _)| *o != Op::Add)
            .count();
        let b_len = ops[start..end]
            .iter()
            .filter(|(o, _)| *o != Op::Del)
            .count();
        out.push_str(&format!(
            "@@ -{},{a_len} +{},{b_len} @@\n",
            a_start + 1,
            b_start + 1
        ));
        for (op, line) in &ops[start..end] {
            let mark = match op {
                Op::Same => ' ',
                Op::Del => '-',
                Op::Add => '+',
            };
            out.push(mark);
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

/// The edit script from `a` to `b`.
fn align<'t>(a: &[&'t str], b: &[&'t str]) -> Vec<(Op, &'t str)> {
    // Common prefix and suffix first: transcripts usually differ in a few lines.
    let pre = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    let suf = a[pre..]
        .iter()
        .rev()
        .zip(b[pre..].iter().rev())
        .take_while(|(x, y)| x == y)
        .count();
    let (ma, mb) = (&a[pre..a.len() - suf], &b[pre..b.len() - suf]);
    let mut ops: Vec<(Op, &str)> = a[..pre].iter().map(|l| (Op::Same, *l)).collect();
    if ma.len().saturating_mul(mb.len()) > MAX_CELLS {
        ops.extend(ma.iter().map(|l| (Op::Del, *l)));
        ops.extend(mb.iter().map(|l| (Op::Add, *l)));
    } else {
        // lcs[i][j] = length of the LCS of ma[i..] and mb[j..].
        let w = mb.len() + 1;
        let mut lcs = vec![0u32; (ma.len() + 1) * w];
        for i in (0..ma.len()).rev() {
            for j in (0..mb.len()).rev() {
                lcs[i * w + j] = if ma[i] == mb[j] {
                    lcs[(i + 1) * w + j + 1] + 1
                } else {
                    lcs[(i + 1) * w + j].max(lcs[i * w + j + 1])
                };
            }
        }
        let (mut i, mut j) = (0, 0);
        while i < ma.len() || j < mb.len() {
            if i < ma.len() && j < mb.len() && ma[i] == mb[j] {
                ops.push((Op::Same, ma[i]));
                i += 1;
                j += 1;
            } else if i < ma.len() && (j == mb.len() || lcs[(i + 1) * w + j] >= lcs[i * w + j + 1])
            {
                ops.push((Op::Del, ma[i]));
                i += 1;
            } else {
                ops.push((Op::Add, mb[j]));
                j += 1;
            }
        }
    }
    ops.extend(a[a.len() - suf..].iter().map(|l| (Op::Same, *l)));
    ops
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_is_empty() {
        assert_eq!(unified("a\nb\n", "a\nb\n", "x", "y", 3), "");
    }

    #[test]
    fn one_change_with_context() {
        let a = "1\n2\n3\n4\n5\n6\n7\n8\n";
        let b = "1\n2\n3\n4\nfive\n6\n7\n8\n";
        assert_eq!(
            unified(a, b, "go", "rust", 1),
            "--- go\n+++ rust\n@@ -4,3 +4,3 @@\n 4\n-5\n+five\n 6\n"
        );
    }

    #[test]
    fn separate_hunks_and_insertions() {
        let a = "a\nb\nc\nd\ne\nf\ng\nh\ni\n";
        let b = "a\nB\nc\nd\ne\nf\ng\nh\ni\nj\n";
        let d = unified(a, b, "x", "y", 1);
        assert_eq!(
            d,
            "--- x\n+++ y\n@@ -1,3 +1,3 @@\n a\n-b\n+B\n c\n@@ -9,1 +9,2 @@\n i\n+j\n"
        );
    }
}
