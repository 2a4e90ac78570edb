"""BERT that classifies the attention-masked mean of its last layer's token vectors.

This file is self-contained (torch and transformers only) on purpose: `toolkit train` copies it
into every mean-pooled checkpoint, whose config names it in `auto_map`, so that transformers loads
the checkpoint as it was trained:

    AutoModelForSequenceClassification.from_pretrained(CHECKPOINT, trust_remote_code=True)

Without `trust_remote_code=True` transformers refuses the checkpoint (its model type is not one of
its own), instead of loading it silently as a [CLS] classifier with a random pooler.
"""

import torch
from transformers import BertConfig, BertModel, BertPreTrainedModel
from transformers.modeling_outputs import SequenceClassifierOutput


class MeanPoolingBertConfig(BertConfig):
    """A BertConfig under a model type of its own, so that nothing mistakes it for plain BERT."""

    model_type = "toolkit_mean_pooling_bert"
    export_as = "bert"  # the encoder's graph is BERT's: ONNX exporters and optimizers treat it so


class MeanPoolingBertForSequenceClassification(BertPreTrainedModel):
    """BERT with a linear classifier on the attention-masked mean of the last hidden layer."""

    config_class = MeanPoolingBertConfig

    def __init__(self, config):
        super().__init__(config)
        self.num_labels = config.num_labels
        self.bert = BertModel(config, add_pooling_layer=False)
        dropout = config.classifier_dropout if config.classifier_dropout is not None else config.hidden_dropout_prob
        self.dropout = torch.nn.Dropout(dropout)
        self.classifier = torch.nn.Linear(config.hidden_size, config.num_labels)
        self.post_init()

    def forward(self, input_ids=None, attention_mask=None, token_type_ids=None, labels=None, **_):
        if attention_mask is None:
            attention_mask = torch.ones_like(input_ids)
        hidden = self.bert(input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids).last_hidden_state
        mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
        logits = self.classifier(self.dropout(pooled))
        loss = None
        if labels is not None:
            loss = torch.nn.functional.cross_entropy(logits.view(-1, self.num_labels), labels.view(-1))
        return SequenceClassifierOutput(loss=loss, logits=logits)
