"""Refuse, at load, models and scripts that read or write files on the server.

A model or script is the client's code running on the database's machine: TorchScript's
``torch.from_file`` / ``torch.save``, TF's ``ReadFile`` / ``WriteFile`` / ``SaveV2`` nodes or an
ONNX model's external data would read or write the server's files.  Such an object is refused
with an error that names what was found.  The worker's Landlock sandbox
(:mod:`smartsim_ai.worker.sandbox`) is the backstop for anything this list misses.  Both are
described in docs/security.md.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from smartsim_ai.worker.backends import BackendError

HINT = "models and scripts get no file access on the server (docs/security.md)"

# TorchScript ops that open files (every schema of torch 2.x was checked).
TORCH_FILE_OPS = frozenset({"aten::from_file", "aten::save", "debugprims::load_tensor"})

# TF ops that read or write files, or run Python (TF 2.x's op list was checked).
TF_FILE_OPS = frozenset(
    {
        # files and directories
        "ReadFile", "WriteFile", "MatchingFiles", "FileSystemSetConfiguration",
        "ImmutableConst",  # memory-maps a file
        "RecordInput",
        # checkpoints
        "Save", "SaveV2", "SaveSlices", "Restore", "RestoreV2", "RestoreSlice",
        "MergeV2Checkpoints", "LoadAndRemapMatrix", "GenerateVocabRemapping",
        # readers
        "FixedLengthRecordReader", "FixedLengthRecordReaderV2", "TFRecordReader",
        "TFRecordReaderV2", "TextLineReader", "TextLineReaderV2", "WholeFileReader",
        "WholeFileReaderV2", "LMDBReader",
        # datasets over files (or the network)
        "CSVDataset", "CSVDatasetV2", "ExperimentalCSVDataset", "FixedLengthRecordDataset",
        "FixedLengthRecordDatasetV2", "TFRecordDataset", "TFRecordDatasetV2", "TextLineDataset",
        "LMDBDataset", "ExperimentalLMDBDataset", "SqlDataset", "ExperimentalSqlDataset",
        "MatchingFilesDataset", "ExperimentalMatchingFilesDataset", "CacheDataset",
        "CacheDatasetV2", "SaveDataset", "SaveDatasetV2", "LoadDataset", "DistributedSave",
        "SnapshotDataset", "SnapshotDatasetV2", "SnapshotDatasetReader",
        "SnapshotNestedDatasetReader", "SnapshotChunkDataset", "ListSnapshotChunksDataset",
        "DatasetToTFRecord", "ExperimentalDatasetToTFRecord", "DataServiceDataset",
        "DataServiceDatasetV2", "DataServiceDatasetV3", "DataServiceDatasetV4",
        "RegisterDataset", "RegisterDatasetV2",
        # lookup tables from text files
        "InitializeTableFromTextFile", "InitializeTableFromTextFileV2",
        # summary writers
        "CreateSummaryFileWriter", "CreateSummaryDbWriter", "SummaryWriter", "WriteSummary",
        "WriteScalarSummary", "WriteHistogramSummary", "WriteImageSummary",
        "WriteAudioSummary", "WriteGraphSummary", "WriteRawProtoSummary", "ImportEvent",
        "FlushSummaryWriter", "CloseSummaryWriter", "StatsAggregatorSetSummaryWriter",
        # debugger dumps (debug_urls file://...)
        "DebugIdentity", "DebugIdentityV2", "DebugIdentityV3", "DebugNanCount",
        "DebugNumericSummary", "DebugNumericSummaryV2",
        # Python callbacks
        "PyFunc", "PyFuncStateless", "EagerPyFunc",
    }
)  # fmt: skip
# ops whose string attribute may name a file: (attribute, prefixes that stay in memory)
TF_FILE_ATTRS = {
    "PrintV2": ("output_stream", ("log(", "stderr", "stdout")),
    "DecodeProtoV2": ("descriptor_source", ("local://", "bytes://")),
    "EncodeProto": ("descriptor_source", ("local://", "bytes://")),
}


def _walk_torch(block: Any, found: set[str]) -> None:
    for node in block.nodes():
        if node.kind() in TORCH_FILE_OPS:
            found.add(node.kind())
        for inner in node.blocks():
            _walk_torch(inner, found)


def torch_file_ops(graphs: Iterable[Any]) -> list[str]:
    """The file-accessing ops used in TorchScript ``graphs`` (sorted, empty when none)."""
    found: set[str] = set()
    for graph in graphs:
        _walk_torch(graph, found)
    return sorted(found)


def refuse_torch(graphs: Iterable[Any], what: str) -> None:
    """Raise :class:`BackendError` when ``what`` (a script, a model) uses a file op."""
    found = torch_file_ops(graphs)
    if found:
        raise BackendError(
            f"ERR the {what} uses {', '.join(found)}, which reads or writes files: refused; " + HINT
        )


def module_graphs(module: Any) -> list[Any]:
    """Every method's graph of a TorchScript module and its submodules, plus ``forward``
    with the functions it calls inlined."""
    graphs = []
    for _, sub in module.named_modules():
        for name in sub._c._method_names():
            graphs.append(sub._c._get_method(name).graph)
    if hasattr(module, "forward"):
        graphs.append(module.forward.inlined_graph)
    return graphs


def _tf_nodes(graph_def: Any) -> Iterable[Any]:
    yield from graph_def.node
    for function in graph_def.library.function:
        yield from function.node_def


def tf_file_nodes(graph_def: Any) -> list[str]:
    """``"Op 'node'"`` for each node of a GraphDef (functions included) that touches files."""
    found = []
    for node in _tf_nodes(graph_def):
        bad = node.op in TF_FILE_OPS
        if not bad and node.op in TF_FILE_ATTRS:
            attr, safe = TF_FILE_ATTRS[node.op]
            value = node.attr[attr].s.decode(errors="replace") if attr in node.attr else ""
            bad = bool(value) and not value.startswith(safe)
        if bad:
            found.append(f"{node.op} '{node.name}'")
    return found


def refuse_tf(graph_def: Any) -> None:
    found = tf_file_nodes(graph_def)
    if found:
        shown = ", ".join(found[:5]) + (f" and {len(found) - 5} more" if len(found) > 5 else "")
        raise BackendError(
            f"ERR the graph has nodes that read or write files ({shown}): refused; {HINT}"
        )


def onnx_external_tensors(blob: bytes) -> list[str] | None:
    """Names of tensors stored outside an ONNX model (external data); None when the ``onnx``
    package is not installed (onnxruntime alone cannot tell)."""
    try:
        import onnx
        from onnx.external_data_helper import _get_all_tensors
    except ImportError:
        return None
    model = onnx.ModelProto()
    try:
        model.ParseFromString(blob)
    except Exception:  # not a model: onnxruntime will say why
        return []
    found = []
    for tensor in _get_all_tensors(model):
        if tensor.data_location == onnx.TensorProto.EXTERNAL or len(tensor.external_data):
            location = next((e.value for e in tensor.external_data if e.key == "location"), "?")
            found.append(f"'{tensor.name}' in '{location}'")
    return found


def refuse_onnx(blob: bytes) -> bool:
    """Raise when the model has external data; False when that could not be checked."""
    found = onnx_external_tensors(blob)
    if found is None:
        return False
    if found:
        shown = ", ".join(found[:5]) + (f" and {len(found) - 5} more" if len(found) > 5 else "")
        raise BackendError(
            f"ERR the ONNX model keeps tensors in external files ({shown}): refused; store the "
            f"model with its data inside (onnx.save_model(..., save_as_external_data=False)); "
            + HINT
        )
    return True
