//! Rate and channel conversion for PCM in both directions: the app pushes at its microphone's rate
//! and channel count, and pulls at its output's; Opus works at 48 kHz. Linear interpolation is
//! enough for voice and costs a few operations per sample on the audio thread (a windowed-sinc
//! resampler would add a dependency and latency for no audible gain in speech).

/// Streaming linear resampler over interleaved frames: feed any chunk sizes; the fractional
/// position carries over between calls, so chunk boundaries are seamless.
#[derive(Debug, Clone)]
pub struct Resampler {
    channels: usize,
    /// Input frames per output frame.
    step: f64,
    /// Position of the next output frame, in input frames, relative to `last` (index 0).
    pos: f64,
    /// The last input frame of the previous chunk, so interpolation spans chunk boundaries.
    last: Vec<f32>,
}

impl Resampler {
    pub fn new(from_rate: u32, to_rate: u32, channels: usize) -> Self {
        Resampler { channels, step: from_rate as f64 / to_rate as f64, pos: 1.0, last: vec![0.0; channels] }
    }

    /// Appends the resampled frames of `input` (interleaved, whole frames) to `out`.
    pub fn process(&mut self, input: &[f32], out: &mut Vec<f32>) {
        let ch = self.channels;
        let frames = input.len() / ch;
        if frames == 0 {
            return;
        }
        // Frame i of the sequence [last, input...].
        let frame = |i: usize| if i == 0 { &self.last[..] } else { &input[(i - 1) * ch..i * ch] };
        let len = frames + 1;
        out.reserve(((frames as f64 / self.step) as usize + 1) * ch);
        while self.pos + 1.0 < len as f64 || (self.pos.fract() == 0.0 && (self.pos as usize) < len) {
            let i = self.pos as usize;
            let frac = (self.pos - i as f64) as f32;
            let a = frame(i);
            if frac == 0.0 {
                out.extend_from_slice(a);
            } else {
                let b = frame(i + 1);
                out.extend(a.iter().zip(b).map(|(a, b)| a + (b - a) * frac));
            }
            self.pos += self.step;
        }
        self.pos -= frames as f64;
        self.last.copy_from_slice(&input[(frames - 1) * ch..]);
    }
}

/// Writes one stereo frame into a frame of `out_channels` (1: the mean of left and right; 2: as is;
/// more: left and right on the first two, silence on the others, as a surround layout expects).
#[inline]
pub fn map_stereo(left: f32, right: f32, out: &mut [f32]) {
    match out.len() {
        1 => out[0] = 0.5 * (left + right),
        _ => {
            out[0] = left;
            out[1] = right;
            out[2..].fill(0.0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_rate_is_the_identity_across_chunks() {
        let mut r = Resampler::new(48_000, 48_000, 2);
        let input: Vec<f32> = (0..200).map(|i| i as f32).collect();
        let mut out = Vec::new();
        for chunk in input.chunks(14) {
            r.process(chunk, &mut out);
        }
        assert_eq!(out, input);
    }

    #[test]
    fn rate_ratio_holds_over_many_chunks() {
        let mut r = Resampler::new(44_100, 48_000, 1);
        let mut out = Vec::new();
        for _ in 0..100 {
            r.process(&[0.5; 441], &mut out);
        }
        // 44,100 frames in -> 48,000 out, give or take the frame held back for interpolation.
        assert!((out.len() as i64 - 48_000).abs() <= 2, "{}", out.len());
        assert!(out[10..].iter().all(|s| (s - 0.5).abs() < 1e-6));
    }

    #[test]
    fn downsampling_interpolates_between_frames() {
        let mut r = Resampler::new(48_000, 16_000, 1);
        let ramp: Vec<f32> = (0..48).map(|i| i as f32).collect();
        let mut out = Vec::new();
        r.process(&ramp, &mut out);
        // Every third input frame (the first output is the first input).
        assert_eq!(&out[..4], &[0.0, 3.0, 6.0, 9.0]);
    }

    #[test]
    fn channel_mapping() {
        let mut mono = [9.0];
        map_stereo(0.2, 0.4, &mut mono);
        assert!((mono[0] - 0.3).abs() < 1e-6);
        let mut surround = [9.0; 6];
        map_stereo(0.2, 0.4, &mut surround);
        assert_eq!(surround, [0.2, 0.4, 0.0, 0.0, 0.0, 0.0]);
    }
}
