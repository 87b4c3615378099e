"""Per-image files read a block at a time, and memory maps that let go of their pages."""

import numpy as np
import pytest

from inception_tools.mapped import MappedRows, release_pages


def rss_file_mb():
    """This process's resident file-backed memory (MB), from /proc."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("RssFile:"):
                return int(line.split()[1]) / 1024
    pytest.skip("no RssFile in /proc/self/status")


def test_rows_written_and_read_in_blocks_are_the_file(tmp_path):
    rows = MappedRows.create(tmp_path / "x.npy", np.float64, (10, 3))
    rows.write(2, np.arange(9.0).reshape(3, 3))
    assert rows.shape == (10, 3) and len(rows) == 10
    np.testing.assert_array_equal(np.load(tmp_path / "x.npy")[2:5], np.arange(9.0).reshape(3, 3))
    np.testing.assert_array_equal(rows[2:5], np.arange(9.0).reshape(3, 3))
    np.testing.assert_array_equal(np.asarray(rows), np.load(tmp_path / "x.npy"))
    assert not isinstance(rows[0:2], np.memmap)  # a copy: the map is gone when the read returns


def test_reading_every_row_does_not_stay_resident(tmp_path):
    n = 64 << 20
    np.save(tmp_path / "big.npy", np.ones(n // 8))
    rows = MappedRows(tmp_path / "big.npy")
    before = rss_file_mb()
    total = sum(float(rows[b:b + (1 << 20)].sum()) for b in range(0, n // 8, 1 << 20))
    assert total == n // 8 and rss_file_mb() - before < 16


def test_released_pages_leave_memory_and_keep_their_contents(tmp_path):
    mapped = np.lib.format.open_memmap(tmp_path / "r.npy", "w+", np.uint8, (64 << 20,))
    before = rss_file_mb()
    mapped[:] = 7
    mapped.flush()
    assert rss_file_mb() - before > 48  # every page touched is counted as this process's
    release_pages(mapped[10:])  # a view of the map releases the whole map
    assert rss_file_mb() - before < 16
    assert int(mapped[12345]) == 7 and int(np.load(tmp_path / "r.npy", mmap_mode="r")[-1]) == 7
    release_pages(np.zeros(3))  # not a map: nothing happens
