"""Importing data: formats, validation errors with line and column, all-or-nothing."""
import json


def datasets(ws):
    p = ws.run("datasets", "list", check=True)
    return json.loads(p.stdout)


def test_first_import_holds_out_a_stratified_test_split(ws):
    ws.copy_sample()
    out = ws.run_json("import", "--task", "sentiment", "tweets.csv")
    assert out["rows"] == 6000
    assert out["test_rows"] == 1200 and out["train_rows"] == 4800
    assert out["already_imported"] is False
    again = ws.run("import", "--task", "sentiment", "tweets.csv", check=True)
    assert "already imported" in again.stdout
    assert len(datasets(ws)) == 1


def test_later_imports_go_to_train_or_the_split_asked(ws):
    (ws.path / "a.csv").write_text("text,airline_sentiment\n" + "".join(
        f"good {i},positive\nbad {i},negative\n" for i in range(10)))
    (ws.path / "b.csv").write_text("text,airline_sentiment\nfine,positive\nawful,negative\n")
    (ws.path / "c.csv").write_text("text,airline_sentiment\nnice,positive\nugly,negative\n")
    first = ws.run_json("import", "a.csv")
    assert first["test_rows"] == 4 and first["train_rows"] == 16
    second = ws.run_json("import", "b.csv")
    assert second["test_rows"] == 0 and second["train_rows"] == 2
    third = ws.run_json("import", "--split", "test", "c.csv")
    assert third["test_rows"] == 2


def test_rfc4180_csv_with_bom_crlf_quotes_and_newlines(ws):
    data = ('\ufefftext,airline_sentiment\r\n'
            '"hello, world",positive\r\n'
            '"she said ""no""",negative\r\n'
            '"line one\r\nline two",neutral\r\n'
            'plain,positive')
    (ws.path / "t.csv").write_bytes(data.encode("utf-8"))
    out = ws.run_json("import", "--split", "train", "t.csv")
    assert out["rows"] == 4


def test_jsonl_import(ws):
    lines = [{"text": f"t{i}", "airline_sentiment": "positive" if i % 2 else "negative"}
             for i in range(10)]
    (ws.path / "d.jsonl").write_text("\n".join(json.dumps(l) for l in lines) + "\n")
    out = ws.run_json("import", "d.jsonl")
    assert out["rows"] == 10


def assert_refused(ws, name, content, *needles):
    path = ws.path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    p = ws.run("import", name)
    assert p.returncode == 3, p.stderr
    for n in needles:
        assert n in p.stderr, f"{n!r} not in {p.stderr!r}"
    assert datasets(ws) == []


def test_missing_column_is_named(ws):
    assert_refused(ws, "m.csv", "body,airline_sentiment\nx,positive\n", "'text'")


def test_empty_label_names_line_and_column(ws):
    assert_refused(ws, "e.csv", "text,airline_sentiment\na,positive\nb,\nc,negative\n",
                   "line 3", "airline_sentiment")


def test_invalid_utf8_names_line_and_column(ws):
    assert_refused(ws, "u.csv", b"text,airline_sentiment\nok,positive\nbad \xff\xfe,negative\n",
                   "line 3", "text")


def test_jsonl_line_that_is_not_an_object(ws):
    assert_refused(ws, "j.jsonl", '{"text": "a", "airline_sentiment": "positive"}\n[1, 2]\n',
                   "line 2")


def test_oversized_field_names_the_limit(ws):
    big = "x" * 70000
    assert_refused(ws, "big.csv", f"text,airline_sentiment\n{big},positive\n", "line 2", "65536")


def test_unterminated_quote(ws):
    assert_refused(ws, "q.csv", 'text,airline_sentiment\n"never closed,positive\n', "line 2")


def test_bad_import_after_good_one_keeps_the_good_one(ws):
    ws.copy_sample(rows=50)
    ws.run("import", "tweets.csv", check=True)
    (ws.path / "bad.csv").write_text("text,airline_sentiment\na,positive\nb,\n")
    assert ws.run("import", "bad.csv").returncode == 3
    ds = datasets(ws)
    assert len(ds) == 1 and ds[0]["rows"] == 50
