# Seurat v4 CCA integration (Stuart et al. 2019) of raw counts exported by scripts/bench-peers.mjs.
# Usage: Rscript scripts/seurat-cca.R IN_DIR OUT.tsv [N_FEATURES=2000] [N_PCS=30]
#   IN_DIR holds matrix.mtx (genes x cells, MatrixMarket), genes.tsv, cells.tsv and batches.tsv (one line
#   per gene / cell / cell's batch). OUT.tsv: the PCA of the integrated assay, cells x N_PCS, with a header
#   line and the cell names in the first column, in the input's cell order.
# Per batch: NormalizeData (log-normalise, scale 1e4), FindVariableFeatures (vst, N_FEATURES); then
# SelectIntegrationFeatures, FindIntegrationAnchors (CCA), IntegrateData, ScaleData, RunPCA. Sizes that
# Seurat requires to be below the smallest batch (dims, k.filter, k.score, k.weight) are capped by it.
suppressPackageStartupMessages({
  library(Matrix)
  library(Seurat)
})
args <- commandArgs(trailingOnly = TRUE)
if (length(args) < 2) stop("usage: Rscript seurat-cca.R IN_DIR OUT.tsv [N_FEATURES] [N_PCS]")
in_dir <- args[1]
out_file <- args[2]
n_features <- if (length(args) >= 3) as.integer(args[3]) else 2000L
n_pcs <- if (length(args) >= 4) as.integer(args[4]) else 30L
t0 <- Sys.time()
say <- function(...) message(sprintf("[seurat-cca %5.1fs] ", as.numeric(difftime(Sys.time(), t0, units = "secs"))), ...)

counts <- as(readMM(file.path(in_dir, "matrix.mtx")), "CsparseMatrix")
genes <- readLines(file.path(in_dir, "genes.tsv"))
cells <- readLines(file.path(in_dir, "cells.tsv"))
batches <- readLines(file.path(in_dir, "batches.tsv"))
if (nrow(counts) != length(genes) || ncol(counts) != length(cells) || length(batches) != length(cells)) {
  stop(sprintf("inconsistent export: matrix %d x %d, %d genes, %d cells, %d batches", nrow(counts), ncol(counts), length(genes), length(cells), length(batches)))
}
# Seurat forbids underscores in feature names and needs unique names; cells are renamed C1..Cn and mapped back.
rownames(counts) <- make.unique(gsub("_", "-", genes))
colnames(counts) <- paste0("C", seq_along(cells))
obj <- suppressWarnings(CreateSeuratObject(counts = counts, min.cells = 0, min.features = 0))
obj$batch <- batches
say(sprintf("%d cells x %d genes, %d batches", ncol(obj), nrow(obj), length(unique(batches))))

per_batch <- SplitObject(obj, split.by = "batch")
sizes <- vapply(per_batch, ncol, integer(1))
if (length(per_batch) < 2) stop("Seurat integration needs at least two batches")
if (min(sizes) < 10) stop(sprintf("batch '%s' has %d cells; Seurat's CCA anchors need at least 10 per batch", names(sizes)[which.min(sizes)], min(sizes)))
per_batch <- lapply(per_batch, function(x) {
  x <- NormalizeData(x, verbose = FALSE)
  FindVariableFeatures(x, selection.method = "vst", nfeatures = n_features, verbose = FALSE)
})
features <- SelectIntegrationFeatures(object.list = per_batch, nfeatures = n_features, verbose = FALSE)
smallest <- min(sizes)
n_dims <- min(30L, smallest - 1L)
k_filter <- min(200L, smallest)
k_score <- min(30L, smallest - 1L)
k_anchor <- min(5L, smallest - 1L)
k_weight <- min(100L, smallest)
say(sprintf("anchors: %d features, dims 1:%d, k.filter %d, k.score %d, k.anchor %d; smallest batch %d cells", length(features), n_dims, k_filter, k_score, k_anchor, smallest))
anchors <- FindIntegrationAnchors(
  object.list = per_batch, anchor.features = features, reduction = "cca",
  dims = seq_len(n_dims), k.filter = k_filter, k.score = k_score, k.anchor = k_anchor, verbose = FALSE
)
say(sprintf("%d anchors; integrating (k.weight %d)", nrow(anchors@anchors), k_weight))
integrated <- IntegrateData(anchorset = anchors, dims = seq_len(n_dims), k.weight = k_weight, verbose = FALSE)
DefaultAssay(integrated) <- "integrated"
integrated <- ScaleData(integrated, verbose = FALSE)
n_pcs <- min(n_pcs, length(features) - 1L, ncol(integrated) - 1L)
integrated <- RunPCA(integrated, npcs = n_pcs, verbose = FALSE)
emb <- Embeddings(integrated, reduction = "pca")[colnames(obj), , drop = FALSE]
if (any(!is.finite(emb))) stop("the integrated PCA has non-finite values")
rownames(emb) <- cells
tmp <- paste0(out_file, ".tmp")
write.table(emb, tmp, sep = "\t", quote = FALSE, col.names = NA)
file.rename(tmp, out_file)
say(sprintf("wrote %s (%d x %d)", out_file, nrow(emb), ncol(emb)))
