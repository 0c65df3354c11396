import torch

from core.text.generate import clean_candidates, generate_sentences


def test_clean_candidates_strips_numbering_and_filters_length():
    text = '1. The cat slept on the warm mat.\n2) "A cat chased the red ball."\n- Too short.\nno capital letter here at all.'
    assert clean_candidates(text) == ["The cat slept on the warm mat.", "A cat chased the red ball."]


class StubTokenizer:
    chat_template = "stub"
    pad_token_id = 0
    eos_token_id = 0

    def apply_chat_template(self, messages, tokenize, add_generation_prompt):
        return messages[0]["content"]

    def __call__(self, text, return_tensors):
        class Enc(dict):
            def to(self, device):
                return self

        return Enc(input_ids=torch.zeros((1, 3), dtype=torch.long))

    def batch_decode(self, ids, skip_special_tokens):
        return ANSWERS[: len(ids)]


ANSWERS = [
    "The cat sat on the mat all day long.\nDogs bark at the mailman every day.",
    "Two cats were sleeping in the sun today.\nThe cat sat on the mat all day long.",
]


class StubLM:
    device = "cpu"

    def generate(self, input_ids, num_return_sequences, **kw):
        return torch.zeros((num_return_sequences, 5), dtype=torch.long)


def test_generation_keeps_new_sentences_that_contain_the_word():
    out = generate_sentences("cat", n=10, samples=2, max_rounds=3, loaded=(StubTokenizer(), StubLM()))
    assert out == ["The cat sat on the mat all day long.", "Two cats were sleeping in the sun today."]
