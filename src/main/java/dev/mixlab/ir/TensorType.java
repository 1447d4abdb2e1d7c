package dev.mixlab.ir;

/** The static type of a value: shape and element type. */
public record TensorType(Shape shape, DType dtype) {
    public static TensorType f32(int... dims) {
        return new TensorType(Shape.of(dims), DType.F32);
    }

    public static TensorType f32(Shape s) {
        return new TensorType(s, DType.F32);
    }

    public static TensorType i32(Shape s) {
        return new TensorType(s, DType.I32);
    }

    public long bytes() {
        return shape.size() * dtype.bytes();
    }

    @Override
    public String toString() {
        return dtype.name().toLowerCase() + shape;
    }
}
