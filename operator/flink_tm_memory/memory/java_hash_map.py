"""A simulation of JDK 17's ``java.util.HashMap`` with ``String`` keys, kept only for its iteration order.

Flink prints the TaskManager's dynamic configuration (``-D key=value ...``) by iterating a ``HashMap``,
after collecting external resource names through ``new HashSet<>(list)``. Reproducing that text byte for
byte needs the exact iteration order, and a plain "sort by bucket, then insertion" model is wrong as
soon as many keys share a bucket: HashMap then grows the table instead (below 64 buckets), or turns
the bucket into a red-black tree whose ``next`` chain (the iteration order within the bucket) is
reshuffled by tree insertion, ``moveRootToFront`` and ``split`` on resize. So the map is replayed here
operation by operation, following ``HashMap.putVal``, ``resize``, ``treeifyBin`` and ``TreeNode``.

Only insertions of ``String`` keys are modelled (no removal, no values). Strings are compared as Java
does: equality and ``compareTo`` over UTF-16 code units, hash codes over UTF-16 code units.
"""

from __future__ import annotations

import codecs
import struct

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (see memory/records.py)
if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

DEFAULT_INITIAL_CAPACITY = 16
MAXIMUM_CAPACITY = 1 << 30
LOAD_FACTOR = 0.75
TREEIFY_THRESHOLD = 8
UNTREEIFY_THRESHOLD = 6
MIN_TREEIFY_CAPACITY = 64
INT_MAX = (1 << 31) - 1


def utf16_units(text: str) -> bytes:
    """The UTF-16 code units of ``text`` (big-endian), lone surrogates included, as Java stores them."""
    # The codec's function directly: text.encode("utf-16-be") would import encodings.utf_16_be first.
    return codecs.utf_16_be_encode(text, "surrogatepass")[0]


def _signed(value: int) -> int:
    return value - (1 << 32) if value >= 1 << 31 else value


def _units_hash(units: bytes) -> int:
    value = 0
    for unit in struct.unpack(f">{len(units) // 2}H", units):
        value = (31 * value + unit) & 0xFFFFFFFF
    return value


def _spread(units_hash: int) -> int:
    return _signed(units_hash ^ units_hash >> 16)


def java_string_hash(text: str) -> int:
    """Java's ``String.hashCode`` (over UTF-16 code units), as a signed 32-bit int."""
    return _signed(_units_hash(utf16_units(text)))


def spread_hash(text: str) -> int:
    """``HashMap.hash(key)``: ``h ^ (h >>> 16)``, as a signed 32-bit int."""
    return _spread(_units_hash(utf16_units(text)))


def table_size_for(capacity: int) -> int:
    """``HashMap.tableSizeFor``: the power of two at or above ``capacity`` (1 for 0, at most 2^30)."""
    return min(1 << max(capacity - 1, 0).bit_length(), MAXIMUM_CAPACITY)


def _to_float32(value: float) -> float:
    return float(struct.unpack(">f", struct.pack(">f", value))[0])


def hash_set_capacity(size: int) -> int:
    """The initial capacity ``new HashSet<>(collection)`` asks of its map: ``max((int) (size / .75f) + 1, 16)``."""
    # size/.75f is float arithmetic in Java. Dividing the float32 of size by 0.75 in double and rounding
    # to float32 gives the same result: the exact quotient is either representable or has a periodic
    # binary expansion, so it never lies near enough a float32 rounding boundary to round twice wrongly.
    quotient = _to_float32(_to_float32(float(size)) / 0.75)
    truncated = min(int(quotient), INT_MAX)
    plus_one = truncated + 1 if truncated < INT_MAX else -(1 << 31)  # int overflow, as in Java
    return max(plus_one, DEFAULT_INITIAL_CAPACITY)


class _Entry:
    """A map node; the tree fields are used only while its bin is a red-black tree (a ``TreeNode``)."""

    __slots__ = ("hash", "key", "left", "parent", "red", "right", "units")

    def __init__(self, key: str) -> None:
        self.key = key
        self.units = utf16_units(key)
        self.hash = _spread(_units_hash(self.units))
        self.parent: _Entry | None = None
        self.left: _Entry | None = None
        self.right: _Entry | None = None
        self.red = False

    def goes_left_of(self, other: _Entry) -> bool:
        """The tree order of distinct strings: by spread hash (signed), then ``String.compareTo``."""
        # Big-endian UTF-16 bytes compare like the code units Java's compareTo compares, and distinct
        # strings never compare equal, so HashMap's tieBreakOrder never applies.
        if self.hash != other.hash:
            return self.hash < other.hash
        return self.units < other.units


class _Bin:
    """One table slot: its entries in ``next``-chain order, and the tree root if it is a tree bin."""

    __slots__ = ("chain", "root")

    def __init__(self, chain: list[_Entry], root: _Entry | None = None) -> None:
        self.chain = chain
        self.root = root

    def find(self, units: bytes, key_hash: int) -> _Entry | None:
        if self.root is None:
            return next((e for e in self.chain if e.hash == key_hash and e.units == units), None)
        node: _Entry | None = self.root
        while node is not None:
            if node.hash == key_hash and node.units == units:
                return node
            node = node.left if (key_hash, units) < (node.hash, node.units) else node.right
        return None

    def treeify(self) -> None:
        """``TreeNode.treeify``: build the tree by inserting the chain in order, then root first."""
        root: _Entry | None = None
        for entry in self.chain:
            entry.left = entry.right = None
            if root is None:
                entry.parent = None
                entry.red = False
                root = entry
            else:
                _attach(root, entry)
                root = _balance_insertion(root, entry)
        self.root = root
        self._move_root_to_front()

    def tree_insert(self, entry: _Entry) -> None:
        """``TreeNode.putTreeVal`` for a new key: the new node follows its tree parent in the chain."""
        assert self.root is not None
        parent = _attach(self.root, entry)
        self.chain.insert(self.chain.index(parent) + 1, entry)
        self.root = _balance_insertion(self.root, entry)
        self._move_root_to_front()

    def _move_root_to_front(self) -> None:
        assert self.root is not None
        if self.chain[0] is not self.root:
            self.chain.remove(self.root)
            self.chain.insert(0, self.root)


def _attach(root: _Entry, entry: _Entry) -> _Entry:
    """Hang ``entry`` as a leaf under ``root`` in tree order and return its parent."""
    node = root
    while True:
        left = entry.goes_left_of(node)
        child = node.left if left else node.right
        if child is None:
            entry.parent = node
            if left:
                node.left = entry
            else:
                node.right = entry
            return node
        node = child


def _rotate_left(root: _Entry, pivot: _Entry) -> _Entry:
    right = pivot.right
    if right is None:
        return root
    pivot.right = right.left
    if right.left is not None:
        right.left.parent = pivot
    grand = right.parent = pivot.parent
    if grand is None:
        root = right
        right.red = False
    elif grand.left is pivot:
        grand.left = right
    else:
        grand.right = right
    right.left = pivot
    pivot.parent = right
    return root


def _rotate_right(root: _Entry, pivot: _Entry) -> _Entry:
    left = pivot.left
    if left is None:
        return root
    pivot.left = left.right
    if left.right is not None:
        left.right.parent = pivot
    grand = left.parent = pivot.parent
    if grand is None:
        root = left
        left.red = False
    elif grand.right is pivot:
        grand.right = left
    else:
        grand.left = left
    left.right = pivot
    pivot.parent = left
    return root


def _balance_insertion(root: _Entry, x: _Entry) -> _Entry:
    """``TreeNode.balanceInsertion`` (CLR red-black insertion fix-up); returns the new root.

    Java spells out the two mirror-image cases; here ``on_left`` says which one applies.
    """
    x.red = True
    while True:
        xp = x.parent
        if xp is None:
            x.red = False
            return x
        xpp = xp.parent
        if not xp.red or xpp is None:
            return root
        on_left = xp is xpp.left
        uncle = xpp.right if on_left else xpp.left
        if uncle is not None and uncle.red:
            uncle.red = xp.red = False
            xpp.red = True
            x = xpp
            continue
        if x is (xp.right if on_left else xp.left):
            x = xp
            root = _rotate_left(root, x) if on_left else _rotate_right(root, x)
            xp = x.parent
            xpp = None if xp is None else xp.parent
        if xp is not None:
            xp.red = False
            if xpp is not None:
                xpp.red = True
                root = _rotate_right(root, xpp) if on_left else _rotate_left(root, xpp)


class JavaHashMap:
    """The key structure of a ``java.util.HashMap<String, ?>`` under ``put``; see the module docstring."""

    def __init__(self, initial_capacity: int | None = None) -> None:
        if initial_capacity is not None and initial_capacity < 0:
            raise ValueError(f"Illegal initial capacity: {initial_capacity}")
        # As in Java: the table is allocated lazily; a requested capacity waits in the threshold field.
        self._table: list[_Bin | None] = []
        self._threshold = 0 if initial_capacity is None else table_size_for(initial_capacity)
        self._size = 0

    def put(self, key: str) -> None:
        """``HashMap.put(key, value)`` (``putVal``); an existing key, as Java sees it, changes nothing."""
        if not self._table:
            self._resize()
        entry = _Entry(key)
        index = entry.hash & (len(self._table) - 1)
        bin_ = self._table[index]
        if bin_ is None:
            self._table[index] = _Bin([entry])
        elif bin_.find(entry.units, entry.hash) is not None:
            return
        elif bin_.root is not None:
            bin_.tree_insert(entry)
        else:
            bin_.chain.append(entry)
            if len(bin_.chain) > TREEIFY_THRESHOLD:
                self._treeify_bin(index)
        self._size += 1
        if self._size > self._threshold:
            self._resize()

    def keys(self) -> Iterator[str]:
        """Iteration order of ``keySet()``: slot by slot, each slot along its ``next`` chain."""
        for bin_ in self._table:
            if bin_ is not None:
                yield from (entry.key for entry in bin_.chain)

    def _treeify_bin(self, index: int) -> None:
        if len(self._table) < MIN_TREEIFY_CAPACITY:
            self._resize()
        else:
            bin_ = self._table[index]
            assert bin_ is not None
            bin_.treeify()

    def _resize(self) -> None:
        old_table = self._table
        old_capacity = len(old_table)
        new_threshold = 0
        if old_capacity > 0:
            if old_capacity >= MAXIMUM_CAPACITY:
                self._threshold = INT_MAX
                return
            new_capacity = old_capacity << 1
            if new_capacity < MAXIMUM_CAPACITY and old_capacity >= DEFAULT_INITIAL_CAPACITY:
                new_threshold = self._threshold << 1
        elif self._threshold > 0:
            new_capacity = self._threshold
        else:
            new_capacity = DEFAULT_INITIAL_CAPACITY
            new_threshold = int(LOAD_FACTOR * DEFAULT_INITIAL_CAPACITY)
        if new_threshold == 0:
            # (float) newCap * loadFactor is exact for powers of two up to 2^30.
            new_threshold = int(new_capacity * LOAD_FACTOR) if new_capacity < MAXIMUM_CAPACITY else INT_MAX
        self._threshold = new_threshold
        table: list[_Bin | None] = [None] * new_capacity
        self._table = table
        for index, bin_ in enumerate(old_table):
            if bin_ is None:
                continue
            if len(bin_.chain) == 1:
                table[bin_.chain[0].hash & (new_capacity - 1)] = bin_
                continue
            low = [entry for entry in bin_.chain if not entry.hash & old_capacity]
            high = [entry for entry in bin_.chain if entry.hash & old_capacity]
            if bin_.root is None:
                table[index] = _Bin(low) if low else None
                table[index + old_capacity] = _Bin(high) if high else None
            else:
                table[index] = _split_half(bin_, low, high)
                table[index + old_capacity] = _split_half(bin_, high, low)


def _split_half(tree: _Bin, half: list[_Entry], other_half: list[_Entry]) -> _Bin | None:
    """One half of ``TreeNode.split``: a short half becomes a plain bin, a long one a (new) tree."""
    if not half:
        return None
    if len(half) <= UNTREEIFY_THRESHOLD:
        return _Bin(half)
    if not other_half:
        return tree  # every entry moved together: the tree is kept as it is
    new_tree = _Bin(half)
    new_tree.treeify()
    return new_tree


def hash_map_order(keys: Iterable[str], initial_capacity: int | None = None) -> tuple[str, ...]:
    """Iteration order of ``new HashMap<>()`` (or ``new HashMap<>(initial_capacity)``) after ``put(key)``
    of each key in turn."""
    table = JavaHashMap(initial_capacity)
    for key in keys:
        table.put(key)
    return tuple(table.keys())


def hash_set_order(items: list[str]) -> tuple[str, ...]:
    """Iteration order of ``new HashSet<>(items)``: a table sized for the list, then ``add`` in order."""
    return hash_map_order(items, hash_set_capacity(len(items)))
