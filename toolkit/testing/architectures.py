"""Tiny random-weight base models of every BERT-family architecture, each with a tokenizer of its
real kind, to run the toolkit end to end on them (issue #15): tests/test_architectures.py and
bench/architectures.py.

`build_base_model(arch, directory)` writes what `toolkit train --model DIR` takes: a base model
(no task head; 2 layers, hidden 32, 2 heads, intermediate 37) saved with `save_pretrained`, and a
tokenizer trained here with the `tokenizers` library on templated sentences (toolkit.data.synthetic),
byte for byte the same in every run, assembled the way transformers' converters assemble the real
one and wrapped in the transformers fast class the real checkpoint uses, so
`AutoTokenizer.from_pretrained(DIR)` works offline and `tokenizer.json` is there for the runtime:

- bert (like bert-base-uncased): WordPiece, BertTokenizerFast; [PAD]=0 [UNK] [CLS] [SEP] [MASK].
- distilbert (distilbert-base-uncased): WordPiece, DistilBertTokenizerFast; as BERT.
- electra (google/electra-small-discriminator; embeddings 16 wide, projected): WordPiece,
  ElectraTokenizerFast; as BERT.
- mpnet (microsoft/mpnet-base): WordPiece, MPNetTokenizerFast; <s>=0 <pad>=1 </s>=2 [UNK] <mask>.
- roberta (roberta-base): byte-level BPE, RobertaTokenizerFast with add_prefix_space=False;
  <s>=0 <pad>=1 </s>=2 <unk> <mask>.
- modernbert (answerdotai/ModernBERT-base; layer 1 has a 16-token sliding window): byte-level BPE,
  PreTrainedTokenizerFast, no token_type_ids; [UNK] [CLS] [SEP] [PAD] [MASK] at the vocabulary's end.
- xlm-roberta (xlm-roberta-base): SentencePiece Unigram (Metaspace), XLMRobertaTokenizerFast;
  <s>=0 <pad>=1 </s>=2 <unk>=3 ... <mask> last.
- deberta-v2 (microsoft/deberta-v3-base: relative attention, p2c+c2p, no absolute positions, no
  token types): Unigram (Metaspace), DebertaV2TokenizerFast; [PAD]=0 [CLS] [SEP] [UNK] ... [MASK] last.
- albert (albert-base-v2; embeddings 16 wide, layers shared): Unigram (Metaspace), lower-cased,
  AlbertTokenizerFast; <pad>=0 <unk> [CLS] [SEP] [MASK].

Optimum's graphs take token_type_ids for bert, electra and albert only. The architecture names are
the configs' `model_type` (DeBERTa-v3 is `deberta-v2`). Position tables are 64 tokens (66 for
RoBERTa, XLM-R and MPNet, whose positions start after the padding index, as their real 514 do for
512 tokens); every tokenizer's `model_max_length` is 64. The vocabularies are small (VOCAB_SIZES)
so that rarer words split into several pieces.
Unknown characters: WordPiece and Unigram give their unknown token (a Unigram encoding's `tokens`
show the original character, its id is the unknown id), byte-level BPE never does. Building one
takes about 0.05 s (ModernBERT 0.6 s) once transformers' model modules are imported; the first
call in a process pays about 2 s of imports.

The SentencePiece kinds cover both layouts found in the wild, whose offsets differ: XLM-R's is the
hub's tokenizer.json (WhitespaceSplit, then Metaspace: "▁Paris" covers "Paris", and a lone "▁"
piece shares the next character's offsets); DeBERTa-v3's and ALBERT's are what transformers'
converters build today (Metaspace alone: "▁Paris" covers " Paris", a lone "▁" covers the space).
Byte-level offsets differ too: RoBERTa's RobertaProcessing trims the space off "ĠParis",
ModernBERT's TemplateProcessing does not.
"""

from __future__ import annotations

import random
from pathlib import Path

from toolkit.data.synthetic import make_sentence

ARCHITECTURES = ("bert", "distilbert", "roberta", "xlm-roberta", "deberta-v2", "electra", "modernbert",
                 "mpnet", "albert")
TOKENIZER_KINDS = {
    "bert": "wordpiece", "distilbert": "wordpiece", "electra": "wordpiece", "mpnet": "wordpiece",
    "roberta": "byte-bpe", "modernbert": "byte-bpe",
    "xlm-roberta": "unigram", "deberta-v2": "unigram", "albert": "unigram",
}
MAX_TOKENS = 64  # tokenizer model_max_length; also the position table, + 2 where positions are offset
SHAPE = {"hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 2, "intermediate_size": 37}
SENTIMENT_TEXT = ["a great film", "a wonderful movie", "a bad film", "a boring movie", "great acting",
                  "I did not like it at all", "The plot made no sense .", "What a wonderful , moving film !"]
# Small enough that rarer words split into several pieces, large enough that common ones do not.
VOCAB_SIZES = {"wordpiece": 360, "byte-bpe": 256 + 420, "unigram": 450}  # BPE sizes behind each kind


def training_corpus(size: int = 300, seed: int = 0) -> list[str]:
    """Templated sentences, as CoNLL words joined by spaces ("Paris .") and as prose ("Paris."),
    with short review phrases: what the tests' NER and sentiment data are made of."""
    rng = random.Random(seed)
    lines = []
    for _ in range(size):
        words, _ = make_sentence(rng)
        spaced = " ".join(words)
        lines.append(spaced)
        lines.append(spaced.replace(" .", ".").replace(" ,", ","))
    return lines + SENTIMENT_TEXT * 5


def _piece_counts(lines, normalizer, pre_tokenizer, vocab_size: int):
    """Train a BPE on `lines` behind `normalizer` and `pre_tokenizer`; return its pieces and how
    often each is used to encode the corpus, as word-initial pieces and as continuations.

    The WordPiece and Unigram vocabularies are drawn from this BPE: the tokenizers library's
    WordPiece and Unigram trainers break ties in hash-map order and give a different vocabulary in
    every process, while its BPE trainer without a continuing-subword prefix is deterministic."""
    from collections import Counter

    from tokenizers import Tokenizer, trainers
    from tokenizers.models import BPE

    bpe = Tokenizer(BPE())
    bpe.normalizer = normalizer
    bpe.pre_tokenizer = pre_tokenizer
    bpe.train_from_iterator(lines, trainers.BpeTrainer(vocab_size=vocab_size, show_progress=False))
    initial, inner = Counter(), Counter()
    for encoding in bpe.encode_batch(lines, add_special_tokens=False):
        previous = None
        for token, word in zip(encoding.tokens, encoding.word_ids):
            (inner if word == previous else initial)[token] += 1
            previous = word
    return sorted(bpe.get_vocab()), initial, inner


def _wordpiece(lines, specials: list[str], unk: str):
    """As BertConverter / MPNetConverter build it: BertNormalizer (lower case), BertPreTokenizer,
    WordPiece with ##, WordPiece decoder. The vocabulary: every character in both forms, and the BPE
    pieces of the corpus as word starts and as "##" continuations, where BPE used them so."""
    from tokenizers import Tokenizer, decoders, normalizers, pre_tokenizers
    from tokenizers.models import WordPiece

    normalizer = normalizers.BertNormalizer(clean_text=True, handle_chinese_chars=True, strip_accents=None,
                                            lowercase=True)
    pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    pieces, initial, inner = _piece_counts(lines, normalizer, pre_tokenizer, VOCAB_SIZES["wordpiece"])
    chars = [p for p in pieces if len(p) == 1]
    vocab = list(dict.fromkeys(specials + sorted(set(initial) | set(chars))
                               + sorted("##" + p for p in set(inner) | set(chars))))
    tokenizer = Tokenizer(WordPiece({token: i for i, token in enumerate(vocab)}, unk_token=unk,
                                    continuing_subword_prefix="##", max_input_chars_per_word=100))
    tokenizer.add_special_tokens(specials)
    tokenizer.normalizer = normalizer
    tokenizer.pre_tokenizer = pre_tokenizer
    tokenizer.decoder = decoders.WordPiece(prefix="##")
    return tokenizer


def _byte_level_bpe(lines, specials: list[str], nfc: bool = False):
    """As RobertaConverter builds it (and ModernBERT's, NFC-normalized): ByteLevel pre-tokenizer
    without a prefix space, BPE with no unknown token, ByteLevel decoder."""
    from tokenizers import Tokenizer, decoders, normalizers, pre_tokenizers, trainers
    from tokenizers.models import BPE

    tokenizer = Tokenizer(BPE(dropout=None, continuing_subword_prefix="", end_of_word_suffix="", fuse_unk=False))
    if nfc:  # ModernBERT (OLMo's tokenizer)
        tokenizer.normalizer = normalizers.NFC()
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=True, use_regex=True)
    tokenizer.train_from_iterator(lines, trainers.BpeTrainer(
        vocab_size=VOCAB_SIZES["byte-bpe"], special_tokens=specials,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False))
    tokenizer.decoder = decoders.ByteLevel()
    return tokenizer


def _unigram(lines, specials: list[str], unk: str, normalizer_steps: list, whitespace_split: bool):
    """As the SpmConverter family builds it: Metaspace "▁" prepended to every word, Unigram. The
    pieces are a BPE's, each scored with the log of how often it encodes the corpus (add-one), as
    SentencePiece scores its seed pieces; Viterbi then picks the most probable segmentation."""
    import math

    from tokenizers import Tokenizer, decoders, normalizers, pre_tokenizers
    from tokenizers.models import Unigram

    # Real tokenizers carry SentencePiece's Precompiled charsmap (nmt_nfkc); NFKC stands in for it.
    normalizer = normalizers.Sequence(normalizer_steps)
    metaspace = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    pre_tokenizer = (pre_tokenizers.Sequence([pre_tokenizers.WhitespaceSplit(), metaspace])
                     if whitespace_split else metaspace)
    # Pieces never join letters and punctuation: SentencePiece's split_by_unicode_script keeps them apart.
    discovery = pre_tokenizers.Sequence([pre_tokenizer, pre_tokenizers.Punctuation("isolated")])
    pieces, initial, inner = _piece_counts(lines, normalizer, discovery, VOCAB_SIZES["unigram"])
    counts = initial + inner
    total = sum(counts.values()) + len(pieces)
    scored = sorted(((p, math.log((counts[p] + 1) / total)) for p in pieces if p not in specials),
                    key=lambda item: (-item[1], item[0]))
    tokenizer = Tokenizer(Unigram([(token, 0.0) for token in specials] + scored, unk_id=specials.index(unk),
                                  byte_fallback=False))
    tokenizer.add_special_tokens(specials)
    tokenizer.normalizer = normalizer
    tokenizer.pre_tokenizer = pre_tokenizer
    tokenizer.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    return tokenizer


def _template(tokenizer, cls: str, sep: str, pair_double_sep: bool = False, typed_pair: bool = True):
    """`cls` $A `sep` (and its pair form, MPNet's with two separators), as the converters write it."""
    from tokenizers import processors

    b = ":1" if typed_pair else ":0"
    middle = f"{sep}:0 {sep}:0" if pair_double_sep else f"{sep}:0"
    return processors.TemplateProcessing(
        single=f"{cls}:0 $A:0 {sep}:0", pair=f"{cls}:0 $A:0 {middle} $B{b} {sep}{b}",
        special_tokens=[(cls, tokenizer.token_to_id(cls)), (sep, tokenizer.token_to_id(sep))])


def build_tokenizer(arch: str, directory: Path):
    """Train `arch`'s kind of tokenizer, save it to `directory` with its transformers class, and
    return the transformers tokenizer."""
    import transformers
    from tokenizers import AddedToken, Regex, normalizers, processors

    lines = training_corpus()
    common = {"model_max_length": MAX_TOKENS}
    if arch in ("bert", "distilbert", "electra"):
        backend = _wordpiece(lines, ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"], "[UNK]")
        backend.post_processor = _template(backend, "[CLS]", "[SEP]")
        cls = {"bert": "BertTokenizerFast", "distilbert": "DistilBertTokenizerFast",
               "electra": "ElectraTokenizerFast"}[arch]
        backend.model.save(str(directory))  # vocab.txt, as the real checkpoints ship it
        tokenizer = getattr(transformers, cls)(vocab_file=str(directory / "vocab.txt"), tokenizer_object=backend,
                                               do_lower_case=True, **common)
    elif arch == "mpnet":
        backend = _wordpiece(lines, ["<s>", "<pad>", "</s>", "[UNK]", "<mask>"], "[UNK]")
        backend.post_processor = _template(backend, "<s>", "</s>", pair_double_sep=True)
        backend.model.save(str(directory))
        tokenizer = transformers.MPNetTokenizerFast(vocab_file=str(directory / "vocab.txt"), tokenizer_object=backend,
                                                    do_lower_case=True, **common)
    elif arch == "roberta":
        backend = _byte_level_bpe(lines, ["<s>", "<pad>", "</s>", "<unk>", "<mask>"])
        backend.post_processor = processors.RobertaProcessing(sep=("</s>", 2), cls=("<s>", 0),
                                                              add_prefix_space=False, trim_offsets=True)
        backend.model.save(str(directory))  # vocab.json and merges.txt
        tokenizer = transformers.RobertaTokenizerFast(
            vocab_file=str(directory / "vocab.json"), merges_file=str(directory / "merges.txt"),
            tokenizer_object=backend, add_prefix_space=False, trim_offsets=True,
            mask_token=AddedToken("<mask>", lstrip=True, rstrip=False), **common)
    elif arch == "modernbert":
        backend = _byte_level_bpe(lines, ["<|endoftext|>", "<|padding|>"], nfc=True)
        backend.add_special_tokens(["[UNK]", "[CLS]", "[SEP]", "[PAD]", AddedToken("[MASK]", lstrip=True)])
        backend.post_processor = _template(backend, "[CLS]", "[SEP]", typed_pair=False)
        tokenizer = transformers.PreTrainedTokenizerFast(
            tokenizer_object=backend, unk_token="[UNK]", cls_token="[CLS]", sep_token="[SEP]", pad_token="[PAD]",
            mask_token="[MASK]", model_input_names=["input_ids", "attention_mask"],
            clean_up_tokenization_spaces=True, **common)
    elif arch == "xlm-roberta":
        backend = _unigram(lines, ["<s>", "<pad>", "</s>", "<unk>"], "<unk>", [normalizers.NFKC()],
                           whitespace_split=True)
        backend.add_special_tokens([AddedToken("<mask>", lstrip=True)])
        backend.post_processor = processors.TemplateProcessing(
            single="<s> $A </s>", pair="<s> $A </s> </s> $B </s>",
            special_tokens=[("<s>", 0), ("</s>", 2)])
        tokenizer = transformers.XLMRobertaTokenizerFast(tokenizer_object=backend, **common)
    elif arch == "deberta-v2":
        backend = _unigram(lines, ["[PAD]", "[CLS]", "[SEP]", "[UNK]"], "[UNK]",
                           [normalizers.Strip(), normalizers.NFKC(), normalizers.Replace(Regex(" {2,}"), " ")],
                           whitespace_split=False)
        backend.add_special_tokens(["[MASK]"])
        backend.post_processor = _template(backend, "[CLS]", "[SEP]")
        tokenizer = transformers.DebertaV2TokenizerFast(tokenizer_object=backend, do_lower_case=False,
                                                        split_by_punct=False, **common)
    elif arch == "albert":
        backend = _unigram(lines, ["<pad>", "<unk>", "[CLS]", "[SEP]", "[MASK]"], "<unk>",
                           [normalizers.Replace("``", '"'), normalizers.Replace("''", '"'), normalizers.NFKD(),
                            normalizers.StripAccents(), normalizers.Lowercase(), normalizers.NFKC(),
                            normalizers.Replace(Regex(" {2,}"), " ")],
                           whitespace_split=False)
        backend.post_processor = _template(backend, "[CLS]", "[SEP]")
        tokenizer = transformers.AlbertTokenizerFast(
            tokenizer_object=backend, do_lower_case=True, keep_accents=False,
            mask_token=AddedToken("[MASK]", lstrip=True, rstrip=False, normalized=False), **common)
    else:
        raise ValueError(f"unknown architecture {arch!r}: expected one of {', '.join(ARCHITECTURES)}")
    tokenizer.save_pretrained(str(directory))
    return tokenizer


def model_config(arch: str, tokenizer):
    """A tiny config of `arch` whose special ids are the tokenizer's."""
    import transformers

    vocab = len(tokenizer)
    ids = {"pad_token_id": tokenizer.pad_token_id}
    if arch in ("bert", "electra"):
        extra = {"embedding_size": 16} if arch == "electra" else {}  # ELECTRA projects embeddings up
        config_class = transformers.BertConfig if arch == "bert" else transformers.ElectraConfig
        return config_class(vocab_size=vocab, max_position_embeddings=MAX_TOKENS, type_vocab_size=2, **SHAPE,
                            **extra, **ids)
    if arch == "distilbert":
        return transformers.DistilBertConfig(vocab_size=vocab, dim=32, n_layers=2, n_heads=2, hidden_dim=37,
                                             max_position_embeddings=MAX_TOKENS, **ids)
    if arch in ("roberta", "xlm-roberta"):
        config_class = transformers.RobertaConfig if arch == "roberta" else transformers.XLMRobertaConfig
        return config_class(vocab_size=vocab, max_position_embeddings=MAX_TOKENS + 2, type_vocab_size=1,
                            bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id, **SHAPE, **ids)
    if arch == "mpnet":
        return transformers.MPNetConfig(vocab_size=vocab, max_position_embeddings=MAX_TOKENS + 2,
                                        relative_attention_num_buckets=32, bos_token_id=tokenizer.bos_token_id,
                                        eos_token_id=tokenizer.eos_token_id, **SHAPE, **ids)
    if arch == "deberta-v2":  # as microsoft/deberta-v3-base, scaled down
        return transformers.DebertaV2Config(
            vocab_size=vocab, max_position_embeddings=MAX_TOKENS, type_vocab_size=0, relative_attention=True,
            max_relative_positions=-1, position_buckets=32, pos_att_type=["p2c", "c2p"], position_biased_input=False,
            norm_rel_ebd="layer_norm", share_att_key=True, hidden_act="gelu", layer_norm_eps=1e-7, **SHAPE, **ids)
    if arch == "modernbert":
        # Layer 0 global (full) attention, layer 1 local: a 16-token sliding window.
        return transformers.ModernBertConfig(
            vocab_size=vocab, hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=37,
            max_position_embeddings=MAX_TOKENS, global_attn_every_n_layers=2, local_attention=16,
            cls_token_id=tokenizer.cls_token_id, sep_token_id=tokenizer.sep_token_id,
            bos_token_id=tokenizer.cls_token_id, eos_token_id=tokenizer.sep_token_id, reference_compile=False, **ids)
    if arch == "albert":
        return transformers.AlbertConfig(
            vocab_size=vocab, embedding_size=16, max_position_embeddings=MAX_TOKENS, type_vocab_size=2,
            num_hidden_groups=1, inner_group_num=1, hidden_act="gelu_new",
            bos_token_id=tokenizer.cls_token_id, eos_token_id=tokenizer.sep_token_id, **SHAPE, **ids)
    raise ValueError(f"unknown architecture {arch!r}: expected one of {', '.join(ARCHITECTURES)}")


def build_base_model(arch: str, directory: Path) -> Path:
    """Write a tiny random-weight `arch` base model (no task head) and its tokenizer to `directory`."""
    import torch
    from transformers import AutoModel

    if arch not in ARCHITECTURES:
        raise ValueError(f"unknown architecture {arch!r}: expected one of {', '.join(ARCHITECTURES)}")
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    tokenizer = build_tokenizer(arch, directory)
    torch.manual_seed(0)
    model = AutoModel.from_config(model_config(arch, tokenizer))
    model.save_pretrained(str(directory))
    return directory
