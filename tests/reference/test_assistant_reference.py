"""Checks of the MTP drafter reference (assistant_ref.py), text spec §7.3-§7.4, on a small random
assistant written next to the text fixture (no third-party assistant fixture exists).

Run: /usr/bin/python3 -m unittest discover -s tests/reference -p 'test_*.py'
"""

import os
import shutil
import sys
import tempfile
import unittest

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import assistant_ref as A  # noqa: E402
import test_reference as T  # noqa: E402  (fixture cache and GGUF writer; defines no tests here)

N_EMBD, N_HEAD, N_FF, VOCAB = 32, 2, 64, 512


def make_assistant(path, target, seed=0, zero_blocks=False):
    """A gemma4-assistant GGUF for `target` (head dims, rope and window copied from it).
    zero_blocks: attention output and FFN down weights zero and layer scales 1, so every block is
    the identity on the residual stream."""
    rng = np.random.default_rng(seed)
    c = target.config
    d = c.n_embd
    pattern = [True, True, True, False]
    tensors = {}

    def mat(out, inp):
        return rng.standard_normal((out, inp)) / np.sqrt(inp)

    def norm(n):
        return 1.0 + 0.1 * rng.standard_normal(n)

    tensors["token_embd.weight"] = rng.standard_normal((VOCAB, N_EMBD))
    tensors["output_norm.weight"] = norm(N_EMBD)
    tensors["nextn.pre_projection.weight"] = mat(N_EMBD, 2 * d)
    tensors["nextn.post_projection.weight"] = mat(d, N_EMBD)
    g = T.gguf_read.GGUFFile(T.FIXTURE)
    tensors["rope_freqs.weight"] = g.tensor("rope_freqs.weight").astype(np.float64)
    hd_swa, hd_full = c.head_dim[0], c.head_dim[-1]
    for l, sliding in enumerate(pattern):
        hd = hd_swa if sliding else hd_full
        pre = f"blk.{l}."
        tensors[pre + "attn_norm.weight"] = norm(N_EMBD)
        tensors[pre + "attn_q.weight"] = mat(N_HEAD * hd, N_EMBD)
        tensors[pre + "attn_q_norm.weight"] = norm(hd)
        tensors[pre + "attn_output.weight"] = mat(N_EMBD, N_HEAD * hd) * (0 if zero_blocks else 1)
        tensors[pre + "post_attention_norm.weight"] = norm(N_EMBD)
        tensors[pre + "ffn_norm.weight"] = norm(N_EMBD)
        tensors[pre + "ffn_gate.weight"] = mat(N_FF, N_EMBD)
        tensors[pre + "ffn_up.weight"] = mat(N_FF, N_EMBD)
        tensors[pre + "ffn_down.weight"] = mat(N_EMBD, N_FF) * (0 if zero_blocks else 1)
        tensors[pre + "post_ffw_norm.weight"] = norm(N_EMBD)
        tensors[pre + "layer_output_scale.weight"] = np.array(
            [1.0 if zero_blocks else 0.5 + 0.4 * rng.random()])
    a = "gemma4-assistant."
    meta = {
        "general.architecture": (8, "gemma4-assistant"),
        a + "block_count": (4, 4), a + "embedding_length": (4, N_EMBD),
        a + "embedding_length_out": (4, d), a + "feed_forward_length": (4, N_FF),
        a + "attention.head_count": (4, N_HEAD),
        a + "attention.head_count_kv": (9, (4, [1, 1, 1, 1])),
        a + "attention.key_length": (4, hd_full), a + "attention.value_length": (4, hd_full),
        a + "attention.key_length_swa": (4, hd_swa), a + "attention.value_length_swa": (4, hd_swa),
        a + "rope.dimension_count": (4, hd_full), a + "rope.dimension_count_swa": (4, hd_swa),
        a + "rope.freq_base": (6, 1e6), a + "rope.freq_base_swa": (6, 1e4),
        a + "attention.sliding_window": (4, c.sliding_window),
        a + "attention.sliding_window_pattern": (9, (7, pattern)),
        a + "attention.layer_norm_rms_epsilon": (6, 1e-6),
        a + "nextn_predict_layers": (4, 4),
    }
    T.write_gguf(path, meta, [(name, list(reversed(arr.shape)), 0,
                               arr.astype(np.float32).tobytes())
                              for name, arr in tensors.items()])


@unittest.skipUnless(T.have_fixture(), "fixtures not found under UG_SHARED_DIR")
class DrafterTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp()
        cls.target = T.fixture_model()
        cls.path = os.path.join(cls.tmp, "asst.gguf")
        make_assistant(cls.path, cls.target)
        cls.asst = A.Assistant(cls.path)
        # 30 known tokens (p = 29 > sliding window 16): the text golden prompt + its generation.
        case = T.golden_text_case()
        cls.tokens = (T.TEXT_PROMPT_IDS + case["generated_ids"])[:30]

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp)

    def test_identity_blocks_reduce_to_the_projections(self):
        """With every block the identity: logits = E_asst · rms(W_pre [E_t*sqrt(d); h]) and
        h_next = W_post · rms(...): checks concat order, target table/scale, no softcap."""
        path = os.path.join(self.tmp, "id.gguf")
        make_assistant(path, self.target, seed=1, zero_blocks=True)
        asst = A.Assistant(path)
        t, p = self.tokens[-1], len(self.tokens) - 1
        hidden, kv = A.target_context(self.target, self.tokens[:p])
        h = hidden[p - 1]
        e = self.target.w["token_embd"][t] * np.float32(np.sqrt(self.target.config.n_embd))
        z = asst.w["pre"] @ np.concatenate([e, h])
        g = z / np.sqrt(np.mean(z * z) + 1e-6) * asst.w["output_norm"]
        logits, h_next = asst.step(self.target, t, h, p, kv)
        np.testing.assert_allclose(logits, asst.w["token_embd"] @ g, rtol=1e-9, atol=1e-9)
        np.testing.assert_allclose(h_next, asst.w["post"] @ g, rtol=1e-9, atol=1e-9)
        swapped = asst.w["pre"] @ np.concatenate([h, e])
        self.assertGreater(np.abs(swapped - z).max(), 1e-3)

    def test_kv_comes_from_the_last_layer_of_each_type(self):
        c = self.target.config
        self.target.kv_capture = {}
        try:
            self.target.hidden(self.tokens[:10])
            cap = self.target.kv_capture
        finally:
            self.target.kv_capture = None
        _, kv = A.target_context(self.target, self.tokens[:10])
        self.assertEqual([c.is_sliding[4], c.is_sliding[5]], [True, False])
        np.testing.assert_array_equal(kv["sliding"][0], cap[4][0])
        np.testing.assert_array_equal(kv["global"][1], cap[5][1])
        self.assertEqual(kv["global"][0].shape, (10, 1, 512))

    def test_future_keys_and_the_window(self):
        """Keys at >= p are never seen; sliding layers see only p-15..p-1 (window 16); the global
        layer sees every key < p."""
        t, p = self.tokens[-1], len(self.tokens) - 1
        hidden, kv = A.target_context(self.target, self.tokens[:p])
        h = hidden[p - 1]
        base, h_base = self.asst.step(self.target, t, h, p, kv)
        _, kv_long = A.target_context(self.target, self.tokens + [5, 6, 7])
        same, h_same = self.asst.step(self.target, t, h, p, kv_long)
        np.testing.assert_allclose(same, base, rtol=0, atol=1e-10)
        np.testing.assert_allclose(h_same, h_base, rtol=0, atol=1e-10)

        def perturbed(kind, j):
            k, v = kv[kind]
            k2, v2 = k.copy(), v.copy()
            k2[j] *= -1.0
            v2[j] *= 0.5
            kv2 = dict(kv)
            kv2[kind] = (k2, v2)
            return self.asst.step(self.target, t, h, p, kv2)[0]

        w = self.target.config.sliding_window
        self.assertEqual(np.abs(perturbed("sliding", p - w) - base).max(), 0.0)
        self.assertGreater(np.abs(perturbed("sliding", p - w + 1) - base).max(), 1e-6)
        self.assertGreater(np.abs(perturbed("global", 0) - base).max(), 1e-6)

    def test_draft_chain_keeps_the_position(self):
        steps = A.draft(self.target, self.asst, self.tokens, 3)
        p = len(self.tokens) - 1
        hidden, kv = A.target_context(self.target, self.tokens[:p])
        l1, h1 = self.asst.step(self.target, self.tokens[-1], hidden[p - 1], p, kv)
        l2, _ = self.asst.step(self.target, int(np.argmax(l1)), h1, p, kv)
        np.testing.assert_array_equal(steps[0]["logits"], l1)
        np.testing.assert_array_equal(steps[1]["logits"], l2)
        self.assertEqual([s["id"] for s in steps[:2]], [int(np.argmax(l1)), int(np.argmax(l2))])
        self.assertTrue(all(0 <= s["id"] < VOCAB for s in steps))

    def test_rejects_a_text_model(self):
        with self.assertRaisesRegex(A.AssistantError, "gemma4-assistant"):
            A.Assistant(T.FIXTURE)


if __name__ == "__main__":
    unittest.main()
