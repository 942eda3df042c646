"""CSV parsing for bulk import: header checks and physical line numbers."""

from __future__ import annotations

from verifier.badges.bulk import RowError, parse_csv

HEAD = "holder,shop_name,shop_url,platform,branch,valid_days,hosts\n"


def test_bom_blank_lines_and_optional_hosts():
    rows, errors = parse_csv("\ufeff" + HEAD + "甲,店,https://a.example,Taobao,B01,30,\n\n乙,店,https://b.example,jd,B01,,x.example y.example\n")
    assert errors == []
    assert [line for line, _ in rows] == [2, 4]
    first, second = rows[0][1], rows[1][1]
    assert (first.platform, first.valid_days, first.hosts) == ("taobao", 30, None)
    assert (second.valid_days, second.hosts) == (None, ("x.example", "y.example"))


def test_quoted_newline_keeps_line_numbers_physical():
    rows, errors = parse_csv(HEAD + '"甲\n乙",店,https://a.example,taobao,B01,30,\n丙,店,bad,taobao,B01,x,\n')
    assert [line for line, _ in rows] == [2, 4]
    assert errors == []
    assert rows[1][1].valid_days == 0  # not a number: refused by validation, with the row's other problems


def test_hosts_column_is_optional():
    rows, errors = parse_csv("holder,shop_name,shop_url,platform,branch,valid_days\n甲,店,https://a.example,jd,B01,1\n")
    assert errors == [] and rows[0][1].hosts is None


def test_empty_file():
    assert parse_csv("") == ([], [RowError(1, None, "the file is empty", "empty_file")])


def test_unknown_column_is_named():
    _rows, errors = parse_csv(HEAD.strip() + ",colour\n")
    assert len(errors) == 1 and errors[0].line == 1 and "unknown column(s) colour" in errors[0].message


def test_row_error_reads_well():
    assert str(RowError(7, "shop_url", "bad")) == "line 7 (shop_url): bad"
    assert str(RowError(3, None, "bad")) == "line 3: bad"


def test_member_ref_column_is_optional_and_read_in_any_position():
    rows, errors = parse_csv("member_ref,holder,shop_name,shop_url,platform,branch,valid_days\n"
                             " WS-1 ,甲,店,https://a.example,jd,B01,1\n,乙,店,https://b.example,jd,B01,1\n")
    assert errors == []
    assert [r.member_ref for _, r in rows] == ["WS-1", None]
