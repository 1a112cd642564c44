package sdsandbox

import (
	"fmt"
	"os"
	"sync"
	"syscall"
	"unsafe"
)

// consoleKeep is how much of systemd's console output is kept for errors.
const consoleKeep = 64 << 10

// console is a pseudo-terminal bound over the sandbox's /dev/console, so
// PID 1 logs somewhere we can read instead of on the host console. The
// slave stays open here: when systemd closes the console the master would
// otherwise read EIO and lose later output.
type console struct {
	master, slave *os.File
	slavePath     string

	mu   sync.Mutex
	tail []byte
	done chan struct{}
}

func openConsole() (*console, error) {
	master, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		return nil, fmt.Errorf("open pty: %w", err)
	}
	var unlock int32
	if err := ioctl(master, syscall.TIOCSPTLCK, uintptr(unsafe.Pointer(&unlock))); err != nil {
		master.Close()
		return nil, fmt.Errorf("unlock pty: %w", err)
	}
	var n uint32
	if err := ioctl(master, syscall.TIOCGPTN, uintptr(unsafe.Pointer(&n))); err != nil {
		master.Close()
		return nil, fmt.Errorf("pty number: %w", err)
	}
	path := fmt.Sprintf("/dev/pts/%d", n)
	slave, err := os.OpenFile(path, os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		master.Close()
		return nil, fmt.Errorf("open pty slave: %w", err)
	}
	c := &console{master: master, slave: slave, slavePath: path, done: make(chan struct{})}
	go c.collect()
	return c, nil
}

func ioctl(f *os.File, req, arg uintptr) error {
	conn, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var errno syscall.Errno
	if err := conn.Control(func(fd uintptr) {
		_, _, errno = syscall.Syscall(syscall.SYS_IOCTL, fd, req, arg)
	}); err != nil {
		return err
	}
	if errno != 0 {
		return errno
	}
	return nil
}

func (c *console) collect() {
	defer close(c.done)
	buf := make([]byte, 4096)
	for {
		n, err := c.master.Read(buf)
		if n > 0 {
			c.mu.Lock()
			c.tail = append(c.tail, buf[:n]...)
			if len(c.tail) > consoleKeep {
				c.tail = append([]byte(nil), c.tail[len(c.tail)-consoleKeep:]...)
			}
			c.mu.Unlock()
		}
		if err != nil {
			return
		}
	}
}

func (c *console) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return string(c.tail)
}

func (c *console) Close() {
	c.slave.Close()
	c.master.Close()
	<-c.done
}
