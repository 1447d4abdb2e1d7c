package dev.mixlab.backend.cuda;

/** A CUDA library is missing or a CUDA call failed; the message names the call and the error. */
public final class CudaException extends RuntimeException {
    public CudaException(String message) {
        super(message);
    }
}
