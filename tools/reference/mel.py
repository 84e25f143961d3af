"""Whisper log-mel features, numpy only: a transcription of Hugging Face's WhisperFeatureExtractor
(transformers.models.whisper.feature_extraction_whisper + audio_utils.mel_filter_bank / window_function /
spectrogram, numpy path) and a writer of the WAV fixtures in tests/data/audio.

  /usr/bin/python3 tools/reference/mel.py            # (re)write tests/data/audio/*.wav + reference.safetensors

HF's steps: float32 samples, zero-padded or truncated to chunk_length * sampling_rate (30 s = 480000); reflect
padding by n_fft/2 on both sides; periodic Hann window (np.hanning(n_fft + 1)[:-1]); frames every hop samples,
np.fft.rfft in float64, stored as complex64; |X|^2 in float64; Slaney-scale, Slaney-normalised triangular mel filters
on 0..8000 Hz; max(1e-10, filters^T @ power); log10; cast to float32; drop the last frame (3001 -> 3000);
max(x, x.max() - 8); (x + 4) / 4.

WAV conventions (HF itself takes float arrays; these are the ones tessera::read_wav uses): 16-bit PCM -> x / 32768,
32-bit float as is, several channels -> the mean of the channels (in float32).
"""
import json
import os
import struct
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "..", "tests", "data", "audio")


# --- transformers.audio_utils ------------------------------------------------------------------------------------
def hertz_to_mel(freq):  # mel_scale="slaney"
    min_log_hertz, min_log_mel, logstep = 1000.0, 15.0, 27.0 / np.log(6.4)
    mels = 3.0 * freq / 200.0
    if isinstance(freq, np.ndarray):
        log_region = freq >= min_log_hertz
        mels[log_region] = min_log_mel + np.log(freq[log_region] / min_log_hertz) * logstep
    elif freq >= min_log_hertz:
        mels = min_log_mel + np.log(freq / min_log_hertz) * logstep
    return mels


def mel_to_hertz(mels):  # mel_scale="slaney"
    min_log_hertz, min_log_mel, logstep = 1000.0, 15.0, np.log(6.4) / 27.0
    freq = 200.0 * mels / 3.0
    log_region = mels >= min_log_mel
    freq[log_region] = min_log_hertz * np.exp(logstep * (mels[log_region] - min_log_mel))
    return freq


def mel_filter_bank(num_frequency_bins, num_mel_filters, min_frequency, max_frequency, sampling_rate):
    """norm="slaney", mel_scale="slaney" -> [num_frequency_bins, num_mel_filters] float64."""
    mel_freqs = np.linspace(hertz_to_mel(min_frequency), hertz_to_mel(max_frequency), num_mel_filters + 2)
    filter_freqs = mel_to_hertz(mel_freqs)
    fft_freqs = np.linspace(0, sampling_rate // 2, num_frequency_bins)
    filter_diff = np.diff(filter_freqs)
    slopes = np.expand_dims(filter_freqs, 0) - np.expand_dims(fft_freqs, 1)
    down_slopes = -slopes[:, :-2] / filter_diff[:-1]
    up_slopes = slopes[:, 2:] / filter_diff[1:]
    filters = np.maximum(np.zeros(1), np.minimum(down_slopes, up_slopes))
    enorm = 2.0 / (filter_freqs[2:num_mel_filters + 2] - filter_freqs[:num_mel_filters])
    return filters * np.expand_dims(enorm, 0)


def hann_periodic(n):
    return np.hanning(n + 1)[:-1]


def spectrogram(waveform, window, frame_length, hop_length, mel_filters, mel_floor=1e-10):
    """center=True, pad_mode="reflect", onesided, power=2.0, log_mel="log10", dtype float32."""
    waveform = np.pad(waveform, [(frame_length // 2, frame_length // 2)], mode="reflect")
    waveform = waveform.astype(np.float64)
    window = window.astype(np.float64)
    num_frames = int(1 + np.floor((waveform.size - frame_length) / hop_length))
    spec = np.empty((num_frames, frame_length // 2 + 1), dtype=np.complex64)
    buffer = np.zeros(frame_length)
    for i in range(num_frames):
        t = i * hop_length
        buffer[:frame_length] = waveform[t:t + frame_length]
        buffer[:frame_length] *= window
        spec[i] = np.fft.rfft(buffer)
    spec = np.abs(spec, dtype=np.float64) ** 2.0
    spec = spec.T
    spec = np.maximum(mel_floor, np.dot(mel_filters.T, spec))
    spec = np.log10(spec)
    return np.asarray(spec, np.float32)


# --- WhisperFeatureExtractor --------------------------------------------------------------------------------------
def whisper_features(samples, feature_size=80, sampling_rate=16000, n_fft=400, hop_length=160, chunk_length=30):
    n_samples = chunk_length * sampling_rate
    x = np.asarray(samples, dtype=np.float32)[:n_samples]
    x = np.pad(x, (0, n_samples - x.size))
    filters = mel_filter_bank(1 + n_fft // 2, feature_size, 0.0, 8000.0, sampling_rate)
    log_spec = spectrogram(x, hann_periodic(n_fft), n_fft, hop_length, filters)
    log_spec = log_spec[:, :-1]
    log_spec = np.maximum(log_spec, log_spec.max() - 8.0)
    log_spec = (log_spec + 4.0) / 4.0
    return log_spec  # [feature_size, n_samples / hop_length] float32


# --- WAV writing / reading (the conventions tessera::read_wav follows) ---------------------------------------------
def write_wav(path, data, rate, fmt):
    """data [frames, channels]; fmt "pcm16" or "float32"."""
    frames, channels = data.shape
    if fmt == "pcm16":
        payload = np.clip(np.round(data * 32767), -32768, 32767).astype("<i2").tobytes()
        tag, bits = 1, 16
    else:
        payload = data.astype("<f4").tobytes()
        tag, bits = 3, 32
    block = channels * bits // 8
    fmt_chunk = struct.pack("<HHIIHH", tag, channels, rate, rate * block, block, bits)
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt_chunk)) + fmt_chunk
    if fmt != "pcm16":
        body += b"fact" + struct.pack("<II", 4, frames)  # float files carry a fact chunk; readers must skip it
    body += b"data" + struct.pack("<I", len(payload)) + payload
    with open(path, "wb") as f:
        f.write(b"RIFF" + struct.pack("<I", len(body)) + body)


def read_wav_mono(path):
    with open(path, "rb") as f:
        b = f.read()
    pos, fmt, data = 12, None, None
    while pos + 8 <= len(b):
        cid, size = b[pos:pos + 4], struct.unpack("<I", b[pos + 4:pos + 8])[0]
        if cid == b"fmt ":
            fmt = struct.unpack("<HHIIHH", b[pos + 8:pos + 24])
        elif cid == b"data":
            data = b[pos + 8:pos + 8 + size]
        pos += 8 + size + (size & 1)
    tag, channels, rate, _, _, bits = fmt
    if tag == 1 and bits == 16:
        x = np.frombuffer(data, "<i2").astype(np.float32) / np.float32(32768.0)
    elif tag == 3 and bits == 32:
        x = np.frombuffer(data, "<f4").astype(np.float32)
    else:
        raise ValueError("unsupported test format")
    x = x.reshape(-1, channels).mean(axis=1, dtype=np.float32)
    return x, rate


def save_safetensors(path, tensors):
    header, blobs, off = {}, [], 0
    for name in sorted(tensors):
        a = np.ascontiguousarray(tensors[name], dtype=np.float32)
        header[name] = {"dtype": "F32", "shape": list(a.shape), "data_offsets": [off, off + a.nbytes]}
        blobs.append(a.tobytes())
        off += a.nbytes
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


CASES = [
    # name, seconds, channels, fmt, mel bins
    ("chirp_pcm16_mono", 1.0, 1, "pcm16", 80),
    ("tones_float32_stereo", 0.45, 2, "float32", 80),
    ("noise_pcm16_mono_128mel", 0.3037, 1, "pcm16", 128),
]


def synthesize(seconds, channels, seed):
    rng = np.random.default_rng(seed)
    n = int(round(seconds * 16000))
    t = np.arange(n) / 16000.0
    chirp = 0.5 * np.sin(2 * np.pi * (200 * t + 1800 * t * t))
    tone = 0.3 * np.sin(2 * np.pi * 440 * t) * np.exp(-2 * t)
    cols = [chirp + 0.05 * rng.standard_normal(n)]
    if channels == 2:
        cols.append(tone + 0.2 * np.sin(2 * np.pi * 3000 * t) + 0.02 * rng.standard_normal(n))
    return np.clip(np.stack(cols, axis=1), -1, 1)


def main():
    os.makedirs(OUT, exist_ok=True)
    ref = {}
    for i, (name, seconds, channels, fmt, mels) in enumerate(CASES):
        path = os.path.join(OUT, name + ".wav")
        if name.startswith("noise"):
            data = np.random.default_rng(7).uniform(-0.8, 0.8, size=(int(round(seconds * 16000)), 1))
        else:
            data = synthesize(seconds, channels, i)
        write_wav(path, data, 16000, fmt)
        x, rate = read_wav_mono(path)
        feats = whisper_features(x, feature_size=mels, sampling_rate=rate)
        # Frames past the audio see only zeros: all equal. Store the frames that touch audio
        # (+2 for the window's reach) and that one padding column, to keep the fixture small.
        head = int(np.ceil(x.size / 160)) + 2
        tail = feats[:, head:]
        assert np.all(tail == tail[:, :1]), name
        ref[name + ".head"] = feats[:, :head]
        ref[name + ".tail"] = tail[:, 0]
        print(name, x.size, "samples", feats.shape, "head frames", head, "range", feats.min(), feats.max())
    save_safetensors(os.path.join(OUT, "reference.safetensors"), ref)


if __name__ == "__main__":
    sys.exit(main())
