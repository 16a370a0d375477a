package main

// A target is one Linux GOARCH and the C toolchain whose headers describe it.
type target struct {
	GOARCH string

	// Triplet is the GNU triplet of the compiler and of its kernel headers.
	Triplet string

	// CC is the compiler command. cmd/cgo receives it through $CC.
	CC []string

	// CFlags select the ABI that Go uses on this GOARCH. cmd/cgo adds the
	// same flags itself, and the <asm/unistd.h> pass needs them too.
	CFlags []string

	// BigEndian and PointerBits are checked against the compiler's own
	// predefined macros, so a wrong compiler or ABI flag fails the run.
	BigEndian   bool
	PointerBits int

	// AuditArch is the C name of the AUDIT_ARCH_ value that the kernel puts
	// in seccomp_data.arch for system calls made through this ABI.
	AuditArch string

	// ABI names the system call ABI that Go uses and that the generated
	// syscall table describes, as a noun phrase for doc comments.
	ABI string

	// Packages are the Debian 12 packages that provide the compiler and
	// the kernel headers.
	Packages []string

	// KernelArch, when set, means Debian has no cross toolchain with
	// headers for this target. The generator then runs
	// "make headers_install ARCH=<KernelArch>" on Debian's kernel source
	// tarball and points the compiler at the result.
	KernelArch string
}

// kernelSource is the Debian 12 kernel source tarball (package
// linux-source-6.1) used for targets that set KernelArch.
const kernelSource = "/usr/src/linux-source-6.1.tar.xz"

// targets lists every Linux GOARCH that the module supports. The compilers
// are Debian 12's packaged cross compilers. amd64 uses the host compiler, so
// the generator expects an amd64 host.
var targets = []target{
	{
		GOARCH:      "386",
		Triplet:     "i686-linux-gnu",
		CC:          []string{"i686-linux-gnu-gcc"},
		CFlags:      []string{"-m32"},
		PointerBits: 32,
		AuditArch:   "AUDIT_ARCH_I386",
		ABI:         "the i386 ABI",
		Packages:    []string{"gcc-i686-linux-gnu", "linux-libc-dev-i386-cross"},
	},
	{
		GOARCH:      "amd64",
		Triplet:     "x86_64-linux-gnu",
		CC:          []string{"x86_64-linux-gnu-gcc"},
		CFlags:      []string{"-m64"},
		PointerBits: 64,
		AuditArch:   "AUDIT_ARCH_X86_64",
		ABI:         "the x86-64 ABI (not x32)",
		Packages:    []string{"gcc", "linux-libc-dev"},
	},
	{
		GOARCH:      "arm",
		Triplet:     "arm-linux-gnueabi",
		CC:          []string{"arm-linux-gnueabi-gcc"},
		CFlags:      []string{"-marm"},
		PointerBits: 32,
		AuditArch:   "AUDIT_ARCH_ARM",
		ABI:         "EABI",
		Packages:    []string{"gcc-arm-linux-gnueabi", "linux-libc-dev-armel-cross"},
	},
	{
		GOARCH:      "arm64",
		Triplet:     "aarch64-linux-gnu",
		CC:          []string{"aarch64-linux-gnu-gcc"},
		PointerBits: 64,
		AuditArch:   "AUDIT_ARCH_AARCH64",
		ABI:         "the AArch64 ABI",
		Packages:    []string{"gcc-aarch64-linux-gnu", "linux-libc-dev-arm64-cross"},
	},
	{
		// Debian 12 has no LoongArch cross compiler or cross headers.
		// clang-16 generates LoongArch code without a sysroot, and the
		// uapi headers come from Debian's Linux 6.1 source.
		GOARCH:      "loong64",
		Triplet:     "loongarch64-linux-gnu",
		CC:          []string{"clang-16", "--target=loongarch64-linux-gnu"},
		CFlags:      []string{"-mabi=lp64d"},
		PointerBits: 64,
		AuditArch:   "AUDIT_ARCH_LOONGARCH64",
		ABI:         "the LoongArch64 lp64d ABI",
		Packages:    []string{"clang-16", "linux-source-6.1", "make", "rsync", "xz-utils", "gcc", "libc6-dev"},
		KernelArch:  "loongarch",
	},
	{
		GOARCH:      "mips",
		Triplet:     "mips-linux-gnu",
		CC:          []string{"mips-linux-gnu-gcc"},
		CFlags:      []string{"-mabi=32"},
		BigEndian:   true,
		PointerBits: 32,
		AuditArch:   "AUDIT_ARCH_MIPS",
		ABI:         "the o32 ABI",
		Packages:    []string{"gcc-mips-linux-gnu", "linux-libc-dev-mips-cross"},
	},
	{
		GOARCH:      "mipsle",
		Triplet:     "mipsel-linux-gnu",
		CC:          []string{"mipsel-linux-gnu-gcc"},
		CFlags:      []string{"-mabi=32"},
		PointerBits: 32,
		AuditArch:   "AUDIT_ARCH_MIPSEL",
		ABI:         "the o32 ABI",
		Packages:    []string{"gcc-mipsel-linux-gnu", "linux-libc-dev-mipsel-cross"},
	},
	{
		GOARCH:      "mips64",
		Triplet:     "mips64-linux-gnuabi64",
		CC:          []string{"mips64-linux-gnuabi64-gcc"},
		CFlags:      []string{"-mabi=64"},
		BigEndian:   true,
		PointerBits: 64,
		AuditArch:   "AUDIT_ARCH_MIPS64",
		ABI:         "the n64 ABI",
		Packages:    []string{"gcc-mips64-linux-gnuabi64", "linux-libc-dev-mips64-cross"},
	},
	{
		GOARCH:      "mips64le",
		Triplet:     "mips64el-linux-gnuabi64",
		CC:          []string{"mips64el-linux-gnuabi64-gcc"},
		CFlags:      []string{"-mabi=64"},
		PointerBits: 64,
		AuditArch:   "AUDIT_ARCH_MIPSEL64",
		ABI:         "the n64 ABI",
		Packages:    []string{"gcc-mips64el-linux-gnuabi64", "linux-libc-dev-mips64el-cross"},
	},
	{
		GOARCH:      "ppc64",
		Triplet:     "powerpc64-linux-gnu",
		CC:          []string{"powerpc64-linux-gnu-gcc"},
		CFlags:      []string{"-m64"},
		BigEndian:   true,
		PointerBits: 64,
		AuditArch:   "AUDIT_ARCH_PPC64",
		ABI:         "the 64-bit PowerPC ABI",
		Packages:    []string{"gcc-powerpc64-linux-gnu", "linux-libc-dev-ppc64-cross"},
	},
	{
		GOARCH:      "ppc64le",
		Triplet:     "powerpc64le-linux-gnu",
		CC:          []string{"powerpc64le-linux-gnu-gcc"},
		CFlags:      []string{"-m64"},
		PointerBits: 64,
		AuditArch:   "AUDIT_ARCH_PPC64LE",
		ABI:         "the 64-bit PowerPC ABI",
		Packages:    []string{"gcc-powerpc64le-linux-gnu", "linux-libc-dev-ppc64el-cross"},
	},
	{
		GOARCH:      "riscv64",
		Triplet:     "riscv64-linux-gnu",
		CC:          []string{"riscv64-linux-gnu-gcc"},
		PointerBits: 64,
		AuditArch:   "AUDIT_ARCH_RISCV64",
		ABI:         "the 64-bit RISC-V ABI",
		Packages:    []string{"gcc-riscv64-linux-gnu", "linux-libc-dev-riscv64-cross"},
	},
	{
		GOARCH:      "s390x",
		Triplet:     "s390x-linux-gnu",
		CC:          []string{"s390x-linux-gnu-gcc"},
		CFlags:      []string{"-m64"},
		BigEndian:   true,
		PointerBits: 64,
		AuditArch:   "AUDIT_ARCH_S390X",
		ABI:         "the s390x ABI",
		Packages:    []string{"gcc-s390x-linux-gnu", "linux-libc-dev-s390x-cross"},
	},
}
